"""Mini-program channel, outbound: our stored messages as WeChat customer-service messages.

The sender registered for the channel queues each message's id per citizen and returns; a
moment later the turn's messages are claimed (miniprogram_claims.py), merged
(miniprogram_render.py) and sent. Each stored message ends up ``sent`` or ``undelivered`` (with
the reason), and the agent on the case is told about failures. Messages the worker that stored
them never sent (it died, or WeChat stayed away) are sent by the sweep in miniprogram_resend.py
through the same ``send_claim``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from . import miniprogram_claims as claims
from .base import OutboundMessage
from .miniprogram_render import build_parts
from .wechat_api import SendResult, mask_openid, send_custom_message

if TYPE_CHECKING:
    from agent_desk.context import DeskContext
    from agent_desk.models import Citizen

log = logging.getLogger("desk.channels.miniprogram")

GATHER_S = 0.3            # one bot turn's replies arrive within milliseconds of each other
BUSY_WAIT_S = 1.0         # another worker is sending to the citizen: look again after this
OPTIONS_TTL_S = 48 * 3600  # as long as WeChat lets us answer at all
REPLY_WINDOW = timedelta(hours=48)  # WeChat refuses customer-service messages after this
STOP_BATCH = (45015, 45047)  # window closed / quota used up: the rest of the batch would fail too
# How a claim's sending ended.
DONE = "done"                # every message sent or undelivered
TAKEN_OVER = "taken_over"    # the claim lapsed and another worker owns the rest
DEFERRED = "deferred"        # WeChat unreachable: the unsent rest is pending again, for a later sweep
EXPIRED_REASON = ("消息存储后48小时内未能发出，已超过微信客服消息的回复时限，系统不再发送，"
                  "请通过电话等其他方式联系市民")


class Outbox:
    """Per-worker, per-citizen queue of message ids this worker stored: gathers a turn, sends it."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self.pending: dict[int, list[int]] = {}
        self.workers: dict[int, asyncio.Task[None]] = {}

    def put(self, citizen_id: int, message_id: int) -> None:
        self.pending.setdefault(citizen_id, []).append(message_id)
        if citizen_id not in self.workers:
            task = asyncio.get_running_loop().create_task(self._drain(citizen_id))
            self.workers[citizen_id] = task
            task.add_done_callback(_log_failure)

    async def idle(self, timeout: float = 30) -> None:
        """Wait until everything queued so far has been sent (tests and shutdown)."""
        async with asyncio.timeout(timeout):
            while self.workers:
                await asyncio.gather(*list(self.workers.values()), return_exceptions=True)

    async def _drain(self, citizen_id: int) -> None:
        try:
            while True:
                await asyncio.sleep(GATHER_S)  # let the rest of this turn's replies join the batch
                ids = self.pending.pop(citizen_id, None)
                if not ids:
                    return
                claim = await claims.claim(self.ctx, citizen_id=citizen_id, ids=ids)
                if claim is None:
                    # Another worker is sending to this citizen: ours follow its batch, in order.
                    # Its claim either finishes or lapses (WECHAT_RESEND_AFTER_S), so this ends.
                    self.pending[citizen_id] = ids + self.pending.get(citizen_id, [])
                    await asyncio.sleep(BUSY_WAIT_S)
                    continue
                await send_claim(self.ctx, claim)
        finally:
            self.workers.pop(citizen_id, None)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The messages stay pending in the database: the resend sweep sends them later.
        log.error("mini-program send task failed", exc_info=task.exception())


async def send_claim(ctx: DeskContext, claim: claims.Claim) -> str:
    """Send a claim's messages (expired ones are not sent) and record how each one ended."""
    from agent_desk.models import utcnow
    from agent_desk.services.messages import stored_outbound

    if not claim.messages:
        return DONE
    if claim.retaken:
        log.warning("sending again messages whose earlier send was cut off; the citizen may get them twice",
                    extra={"openid": mask_openid(claim.openid), "message_ids": sorted(claim.retaken)})
    expired_before = utcnow() - REPLY_WINDOW
    errors = {m.id: EXPIRED_REASON for m in claim.messages if m.created_at <= expired_before}
    batch = [(stored_outbound(m), m.id) for m in claim.messages if m.id not in errors]
    try:
        outcome = await _send(ctx, claim, batch, errors)
    except BaseException:
        with contextlib.suppress(Exception):  # the original failure is what matters
            await asyncio.shield(claims.release(ctx, claim))  # what was not started goes back to pending
        raise
    if outcome != TAKEN_OVER:
        await record_delivery(ctx, sent=set(), errors=errors)
    if outcome == DEFERRED:
        await claims.release(ctx, claim, started_too=True)
    return outcome


async def _send(ctx: DeskContext, claim: claims.Claim, batch: list[tuple[OutboundMessage, int]],
                errors: dict[int, str]) -> str:
    """Send the batch part by part, in order; stops when the claim is taken over or WeChat is away."""
    parts, options, saw_bot = build_parts(batch)
    key = ctx.keys.wechat_options(claim.openid)
    if options:
        await ctx.redis.set(key, json.dumps(options, ensure_ascii=False), ex=OPTIONS_TTL_S)
    elif saw_bot:
        await ctx.redis.delete(key)
    parts_left = Counter(mid for part in parts for mid in part.message_ids)
    empty = [mid for _out, mid in batch if mid not in parts_left]
    if empty:  # nothing in them to show the citizen; left claimed, they would be claimed for ever
        await claims.mark_sent(ctx, claim, empty)
    stop: SendResult | None = None
    for part in parts:
        if stop is not None:  # no point spending quota or time: WeChat would refuse the same way
            errors.update({mid: stop.reason for mid in part.message_ids})
            continue
        if not await claims.start_sending(ctx, claim, part.message_ids):
            log.warning("mini-program send taken over by another worker",
                        extra={"openid": mask_openid(claim.openid), "message_ids": list(part.message_ids)})
            return TAKEN_OVER
        result = await send_custom_message(ctx, {"touser": claim.openid, **part.body})
        parts_left.subtract(part.message_ids)
        if result.ok:
            # Recorded at once, so a crash later in the batch cannot make this message go twice.
            done = [mid for mid in part.message_ids if parts_left[mid] == 0 and mid not in errors]
            if done:
                await claims.mark_sent(ctx, claim, done)
            count_key = ctx.keys.wechat_sent_count(claim.openid)
            await ctx.redis.incr(count_key)
            await ctx.redis.expire(count_key, OPTIONS_TTL_S)
        elif result.unreachable:
            # Not the message's fault: it and the rest of the turn wait, in order, for a sweep
            # once WeChat answers again (or until the 48-hour window has passed).
            log.warning("wechat unreachable, messages left pending for the resend sweep",
                        extra={"openid": mask_openid(claim.openid), "errcode": result.errcode,
                               "attempts": result.attempts, "message_ids": list(part.message_ids)})
            return DEFERRED
        else:
            errors.update({mid: result.reason for mid in part.message_ids})
            if result.errcode in STOP_BATCH:
                stop = result
        log.info("wechat message sent" if result.ok else "wechat message undelivered",
                 extra={"openid": mask_openid(claim.openid), "msgtype": part.body["msgtype"],
                        "errcode": result.errcode, "attempts": result.attempts,
                        "message_ids": list(part.message_ids)})
    return DONE


async def record_delivery(ctx: DeskContext, *, sent: set[int], errors: dict[int, str]) -> None:
    """Store each message's delivery state; tell the agent handling the case about failures."""
    from agent_desk.models import Case, Message, utcnow
    from agent_desk.services.delivery import notify_agents

    if not sent and not errors:
        return
    now = utcnow()
    async with ctx.sessions() as session:
        if sent:
            await session.execute(update(Message).where(Message.id.in_(sent))
                                  .values(delivery="sent", delivery_error=None, delivery_at=now))
        for mid, reason in errors.items():
            await session.execute(update(Message).where(Message.id == mid)
                                  .values(delivery="undelivered", delivery_error=reason, delivery_at=now))
        rows: list[Any] = []
        if errors:
            rows = list((await session.execute(
                select(Message.id, Case.id, Case.agent_id).join(Case, Case.conversation_id == Message.conversation_id)
                .where(Message.id.in_(list(errors))))).all())
        await session.commit()
    for mid, case_id, agent_id in rows:
        await notify_agents(ctx, "message_delivery", {"case_id": case_id, "message_id": mid,
                                                      "delivery": "undelivered", "delivery_error": errors[mid]},
                            agent_id=agent_id)


async def send_to_citizen(ctx: DeskContext, citizen: Citizen, out: OutboundMessage, message_id: int) -> None:
    """The sender registered for channel "miniprogram": queue now, send within a moment.

    ``out`` is what was stored as ``message_id``; the sender reads it back from the database,
    because the message may be sent by another worker or after a restart.
    """
    outbox: Outbox = ctx.extras.setdefault("wechat_outbox", Outbox(ctx))
    outbox.put(citizen.id, message_id)
