"""Mini-program messages nobody is sending any more, found and sent by a sweep on every worker.

A message is stored before it is sent, and the sending happens in memory a moment later. If
the worker dies in between, or WeChat's API stays unreachable beyond the send retries, the
message would wait in ``pending`` for ever and the citizen would never get it. So every desk
worker sweeps at start and every ``WECHAT_RESEND_INTERVAL_S``: messages still pending
``WECHAT_RESEND_AFTER_S`` after they were stored, or whose claim has shown no progress that
long, are claimed (one owner, whichever workers sweep at once) and sent in their order, merged
as a turn is; those older than WeChat's 48-hour window are marked undelivered and the agent is
told instead.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from . import miniprogram_claims as claims
from .miniprogram_outbound import DEFERRED, send_claim
from .wechat_api import mask_openid

if TYPE_CHECKING:
    from sanic import Sanic

    from agent_desk.context import DeskContext
    from agent_desk.settings import Settings

log = logging.getLogger("desk.channels.miniprogram")

CITIZENS_PER_SWEEP = 200  # the rest wait for the next sweep (only after a long outage)
STOP_WAIT_S = 5.0


async def sweep(ctx: DeskContext) -> int:
    """One pass over every citizen with due messages; returns how many messages it handled."""
    from agent_desk.models import DELIVERY_OPEN, Citizen, Message, utcnow

    cutoff = claims.lapse_cutoff(ctx, utcnow())
    async with ctx.sessions() as session:
        citizen_ids = (await session.execute(
            select(Message.citizen_id).join(Citizen, Citizen.id == Message.citizen_id)
            .where(Citizen.channel == "miniprogram", Message.delivery.in_(DELIVERY_OPEN), claims.due(cutoff))
            .group_by(Message.citizen_id).order_by(func.min(Message.id)).limit(CITIZENS_PER_SWEEP))).scalars().all()
    handled = 0
    for citizen_id in citizen_ids:
        try:
            claim = await claims.claim(ctx, citizen_id=citizen_id)
            if claim is None or not claim.messages:  # another worker is on it
                continue
            log.info("sending mini-program messages left unsent",
                     extra={"openid": mask_openid(claim.openid), "message_ids": [m.id for m in claim.messages]})
            outcome = await send_claim(ctx, claim)
            handled += len(claim.messages)
            if outcome == DEFERRED:  # WeChat is away: the other citizens would wait in vain too
                break
        except Exception:  # one citizen's trouble must not hold up the others
            log.exception("mini-program resend failed", extra={"citizen_id": citizen_id})
    return handled


class Resender:
    """The sweep, at start and then every interval (with jitter, so workers do not sweep in step)."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Resender:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handled = await sweep(self.ctx)
                if handled:
                    log.info("mini-program resend sweep done", extra={"messages": handled})
            except Exception:  # the database or Redis is away: try again next time
                log.exception("mini-program resend sweep failed")
            interval = self.ctx.settings.wechat_resend_interval_s * random.uniform(0.8, 1.2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    async def stop(self) -> None:
        """Let a sweep under way finish its current send; cancel it if that takes too long."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, STOP_WAIT_S)


def sending_configured(settings: Settings) -> bool:
    return bool(settings.wechat_appid and settings.wechat_secret)


def install(app: Sanic) -> None:
    """Run the sweep while the worker serves; on stop, finish what this worker has queued."""

    @app.after_server_start
    async def start_resend(app: Sanic) -> None:
        ctx: DeskContext = app.ctx.desk
        if sending_configured(ctx.settings):
            ctx.extras["wechat_resender"] = Resender(ctx).start()

    @app.before_server_stop
    async def stop_resend(app: Sanic) -> None:
        ctx: DeskContext = app.ctx.desk
        resender: Resender | None = ctx.extras.pop("wechat_resender", None)
        if resender is not None:
            await resender.stop()
        outbox = ctx.extras.get("wechat_outbox")
        if outbox is not None:
            with contextlib.suppress(TimeoutError):  # what is left stays pending for the next sweep
                await outbox.idle(timeout=STOP_WAIT_S)
