"""A citizen message while a person has the conversation (waiting in the queue or being served).

The router stores the message; this relays it to the agents, and answers what the desk must
answer itself before any person reads it: a citizen in danger (hotlines at once, the case made
urgent and moved ahead) and 转人工 typed again while waiting (their place in the queue).
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import OutboundMessage

from .. import queue
from ..context import DeskContext
from ..models import Case, Citizen, Conversation, ConversationStatus, Message, utcnow
from .cases import case_view
from .crisis import CRISIS_REPLY_SERVED, crisis_reply_waiting
from .delivery import notify_agents, say_to_citizen
from .messages import serialize

log = logging.getLogger("desk.router")


async def relay_to_agents(ctx: DeskContext, session: AsyncSession, *, conv: Conversation, message: Message) -> None:
    case = (await session.execute(select(Case).where(Case.conversation_id == conv.id))).scalar_one_or_none()
    if case is None:
        log.error("conversation in human mode without a case", extra={"conversation": conv.id})
        return
    await notify_agents(ctx, "case_message", {"case_id": case.id, "message": serialize(message)},
                        agent_id=case.agent_id)


async def crisis_in_case(ctx: DeskContext, session: AsyncSession, *, citizen: Citizen, conv: Conversation) -> None:
    """A citizen already waiting for or talking with a person speaks of harming themselves.

    The hotlines go out at once, whoever is (or is not yet) on the case; the case becomes urgent
    and, while it waits, moves ahead of every non-urgent case; the agents see it flagged. A
    waiting citizen's reply carries the new place (``queue_position``), so the widget's header
    shows it at once instead of the place they had.
    """
    case = (await session.execute(select(Case).where(Case.conversation_id == conv.id))).scalar_one()
    newly_urgent = case.urgent_at is None
    if newly_urgent:
        case.urgent_at = utcnow()
        await session.commit()
    pos = None
    if conv.status == ConversationStatus.queued:
        await queue.move_ahead(ctx.redis, ctx.keys, case_id=case.id, score=queue.score(case))
        pos = await queue.position(ctx.redis, ctx.keys, case_id=case.id)
    meta: dict[str, object] = {"event": "crisis", "case": case.tracking_no}
    if pos is not None:
        meta["queue_position"] = pos
    await say_to_citizen(ctx, session, citizen=citizen, conv=conv,
               out=OutboundMessage(sender="system",
                                   text=crisis_reply_waiting(pos) if conv.status == ConversationStatus.queued
                                   else CRISIS_REPLY_SERVED,
                                   metadata=meta))
    if newly_urgent:
        log.warning("citizen in crisis during a case", extra={"case": case.tracking_no, "status": conv.status.value})
    await notify_agents(ctx, "queue_updated", {"case": case_view(case, citizen=citizen, position=pos)},
                        agent_id=case.agent_id)


async def tell_queue_position(ctx: DeskContext, session: AsyncSession, *, citizen: Citizen,
                               conv: Conversation) -> None:
    """转人工 pressed again while waiting: say where they are instead of staying silent."""
    case = (await session.execute(select(Case).where(Case.conversation_id == conv.id))).scalar_one()
    pos = await queue.position(ctx.redis, ctx.keys, case_id=case.id)
    ahead = max((pos or 1) - 1, 0)
    out = OutboundMessage(sender="system", metadata={"event": "queued", "case": case.tracking_no,
                                                     "queue_position": pos},
                          text=f"您已在排队等待人工客服（受理编号 {case.tracking_no}），"
                               + (f"前面还有 {ahead} 位。" if ahead else "您是下一位。") + "请稍候。")
    await say_to_citizen(ctx, session, citizen=citizen, conv=conv, out=out)
