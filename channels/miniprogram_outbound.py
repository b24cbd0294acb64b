"""Mini-program channel, outbound: our messages as WeChat customer-service messages.

WeChat allows only a few customer-service messages per citizen message (5 within 48 h), so
the replies of one turn are gathered for a moment and merged (miniprogram_render.py) into as
few text messages as the length limit allows; the numbered options' digits are remembered in
Redis so that a citizen answering "1" means the first button's payload. Each stored
message ends up ``sent`` or ``undelivered`` (with the reason), and agents are told.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from .base import OutboundMessage
from .miniprogram_render import build_parts
from .wechat_api import SendResult, mask_openid, send_custom_message

if TYPE_CHECKING:
    from agent_desk.context import DeskContext
    from agent_desk.models import Citizen

log = logging.getLogger("desk.channels.miniprogram")

GATHER_S = 0.3            # one bot turn's replies arrive within milliseconds of each other
OPTIONS_TTL_S = 48 * 3600  # as long as WeChat lets us answer at all
STOP_BATCH = (45015, 45047)  # window closed / quota used up: the rest of the batch would fail too


class Outbox:
    """Per-worker, per-citizen send queue: keeps order, gathers a turn, merges, sends."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self.pending: dict[str, list[tuple[OutboundMessage, int]]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}

    def put(self, openid: str, out: OutboundMessage, message_id: int) -> None:
        self.pending.setdefault(openid, []).append((out, message_id))
        if openid not in self.workers:
            task = asyncio.get_running_loop().create_task(self._drain(openid))
            self.workers[openid] = task
            task.add_done_callback(_log_failure)

    async def idle(self, timeout: float = 30) -> None:
        """Wait until everything queued so far has been sent (tests and shutdown)."""
        async with asyncio.timeout(timeout):
            while self.workers:
                await asyncio.gather(*list(self.workers.values()), return_exceptions=True)

    async def _drain(self, openid: str) -> None:
        try:
            while True:
                await asyncio.sleep(GATHER_S)  # let the rest of this turn's replies join the batch
                batch = self.pending.pop(openid, None)
                if not batch:
                    return
                await send_batch(self.ctx, openid, batch)
        finally:
            self.workers.pop(openid, None)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("mini-program send task failed", exc_info=task.exception())


async def send_batch(ctx: DeskContext, openid: str, batch: list[tuple[OutboundMessage, int]]) -> None:
    parts, options, saw_bot = build_parts(batch)
    key = ctx.keys.wechat_options(openid)
    if options:
        await ctx.redis.set(key, json.dumps(options, ensure_ascii=False), ex=OPTIONS_TTL_S)
    elif saw_bot:
        await ctx.redis.delete(key)
    errors: dict[int, str] = {}
    sent: set[int] = set()
    stop: SendResult | None = None
    for part in parts:
        if stop is not None:  # no point spending quota or time: WeChat would refuse the same way
            errors.update({mid: stop.reason for mid in part.message_ids})
            continue
        result = await send_custom_message(ctx, {"touser": openid, **part.body})
        if result.ok:
            sent.update(part.message_ids)
            count_key = ctx.keys.wechat_sent_count(openid)
            await ctx.redis.incr(count_key)
            await ctx.redis.expire(count_key, OPTIONS_TTL_S)
        else:
            errors.update({mid: result.reason for mid in part.message_ids})
            if result.errcode in STOP_BATCH:
                stop = result
        log.info("wechat message sent" if result.ok else "wechat message undelivered",
                 extra={"openid": mask_openid(openid), "msgtype": part.body["msgtype"], "errcode": result.errcode,
                        "attempts": result.attempts, "message_ids": list(part.message_ids)})
    await record_delivery(ctx, sent=sent - set(errors), errors=errors)


async def record_delivery(ctx: DeskContext, *, sent: set[int], errors: dict[int, str]) -> None:
    """Store each message's delivery state; tell the agent handling the case about failures."""
    from agent_desk.models import Case, Message
    from agent_desk.services.delivery import notify_agents

    async with ctx.sessions() as session:
        if sent:
            await session.execute(update(Message).where(Message.id.in_(sent))
                                  .values(delivery="sent", delivery_error=None))
        for mid, reason in errors.items():
            await session.execute(update(Message).where(Message.id == mid)
                                  .values(delivery="undelivered", delivery_error=reason))
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
    """The sender registered for channel "miniprogram": queue now, send within a moment."""
    outbox: Outbox = ctx.extras.setdefault("wechat_outbox", Outbox(ctx))
    outbox.put(citizen.external_id, out, message_id)
