"""Case (工单) lifecycle: open on handoff, accept (one winner), requeue, close (agent messages: agent_messages.py)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Button, OutboundMessage
from channels.normalize import mask_pii

from .. import queue
from ..context import DeskContext
from ..models import (
    CASE_STATUS_LABELS,
    RATING_LABELS,
    Case,
    CaseStatus,
    Citizen,
    Conversation,
    ConversationStatus,
    Rating,
    User,
    utcnow,
)
from . import audit
from .delivery import deliver_to_citizen, notify_agents
from .messages import store_outbound
from .ratings import MAX_COMMENT_CHARS
from .topics import is_knowledge_topic, topic_title
from .tracking import next_tracking_no

log = logging.getLogger("desk.cases")


class CaseError(Exception):
    """A case action that cannot be done; ``code`` is the HTTP status the API returns."""

    def __init__(self, message: str, code: int = 409) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Opened:
    case: Case
    position: int | None


def case_view(case: Case, *, citizen: Citizen | None = None, agent: User | None = None,
              position: int | None = None, knowledge_topic: str | None = None,
              rating: Rating | None = None) -> dict[str, Any]:
    """A case as staff browsers see it.

    ``agent`` is named only when it is the case's own agent: the caller often passes whoever
    acted (a manager closing a queued case is not the agent who served it).
    ``knowledge_topic`` is the last knowledge topic of the conversation (see
    ``topics.last_knowledge_topics``), used when the case's own topic is a dialogue intent.
    """
    shown_topic = case.topic if is_knowledge_topic(case.topic) else knowledge_topic
    return {
        "id": case.id,
        "tracking_no": case.tracking_no,
        "conversation_id": case.conversation_id,
        "channel": case.channel,
        "status": case.status.value,
        "status_label": CASE_STATUS_LABELS[case.status],
        "reason": case.reason,
        "urgent": case.urgent_at is not None,
        "topic": case.topic,
        "topic_title": topic_title(shown_topic),
        "agent_id": case.agent_id,
        "agent_name": agent.display_name if agent is not None and agent.id == case.agent_id else None,
        "citizen": {"id": citizen.id, "name": citizen.display_name or f"市民{citizen.id}",
                    "channel": citizen.channel} if citizen else None,
        "queue_position": position,
        "created_at": case.created_at.isoformat(),
        "assigned_at": case.assigned_at.isoformat() if case.assigned_at else None,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "updated_at": case.updated_at.isoformat(),
        "rating": ({"score": rating.score, "label": rating.label, "comment": mask_pii(rating.comment)}
                   if rating else None),
    }


async def open_case(ctx: DeskContext, session: AsyncSession, *, conversation: Conversation, reason: str) -> Case:
    """Hand the conversation to people. Caller commits, then calls ``announce_opened``."""
    now = utcnow()
    case = Case(
        tracking_no=await next_tracking_no(session, now=now),
        conversation_id=conversation.id,
        citizen_id=conversation.citizen_id,
        channel=conversation.channel,
        status=CaseStatus.queued,
        reason=reason,
        topic=conversation.last_topic,
        created_at=now,
        urgent_at=now if reason == "crisis" else None,
    )
    session.add(case)
    conversation.status = ConversationStatus.queued
    conversation.consecutive_fallbacks = 0
    await session.flush()
    return case


async def announce_opened(ctx: DeskContext, *, case: Case, citizen: Citizen, requeued: bool = False) -> int | None:
    """After commit: queue in Redis, tell the citizen the tracking number and place, tell agents.

    ``requeued``: the case was taken back from its agent (``requeue_cases_of``); it waits at the
    place its handoff gave it (the queue is ordered by the case's creation), and the citizen is
    told that someone else will continue.
    """
    await queue.enqueue(ctx.redis, ctx.keys, case_id=case.id, score=queue.score(case))
    pos = await queue.position(ctx.redis, ctx.keys, case_id=case.id)
    ahead = max((pos or 1) - 1, 0)
    place = f"您前面还有 {ahead} 位市民在等待，请稍候。" if ahead else "您是下一位，请稍候。"
    if requeued:
        text = (f"为您服务的客服人员有变动，已为您重新排队（受理编号 {case.tracking_no}），"
                f"将由其他客服继续为您服务。{place}")
    else:
        text = f"已为您转接人工客服，受理编号 {case.tracking_no}。{place}"
    out = OutboundMessage(sender="system", text=text,
                          metadata={"event": "queued", "case": case.tracking_no, "queue_position": pos,
                                    **({"requeued": True} if requeued else {})})
    async with ctx.sessions() as session:
        conv = await session.get(Conversation, case.conversation_id)
        assert conv is not None
        msg = await store_outbound(session, conversation=conv, out=out)
        await session.commit()
    await deliver_to_citizen(ctx, citizen=citizen, out=out, message_id=msg.id)
    await notify_agents(ctx, "queue_updated", {"case": case_view(case, citizen=citizen, position=pos)})
    return pos


async def requeue_cases_of(session: AsyncSession, *, agent: User, actor: User, reason: str,
                           ip: str = "") -> list[tuple[Case, Citizen]]:
    """In the caller's transaction: the agent's open (assigned) cases go back to the queue.

    Each case is audited (``case.requeue``). The caller commits, then calls ``announce_opened(...,
    requeued=True)`` for each, which queues it again at its original place and tells the citizen.
    The rows are locked first, so a close racing this either wins (the case stays closed) or
    waits and closes the queued case.
    """
    cases = list((await session.execute(
        select(Case).where(Case.agent_id == agent.id, Case.status == CaseStatus.assigned)
        .order_by(Case.created_at).with_for_update())).scalars())
    now = utcnow()
    requeued = []
    for case in cases:
        case.status, case.agent_id, case.assigned_at, case.updated_at = CaseStatus.queued, None, None, now
        conv = await session.get(Conversation, case.conversation_id)
        citizen = await session.get(Citizen, case.citizen_id)
        assert conv is not None and citizen is not None
        conv.status = ConversationStatus.queued
        await audit.record(session, actor_id=actor.id, actor_role=actor.role.value, action="case.requeue",
                           target_type="case", target_id=case.tracking_no,
                           detail={"reason": reason, "agent": agent.username}, ip=ip)
        requeued.append((case, citizen))
    await session.flush()
    return requeued


async def accept_case(ctx: DeskContext, *, case_id: int, agent: User, ip: str = "") -> Case:
    """Exactly one agent wins: a conditional UPDATE on status=queued is the arbiter."""
    async with ctx.sessions() as session:
        now = utcnow()
        result = await session.execute(
            update(Case).where(Case.id == case_id, Case.status == CaseStatus.queued)
            .values(status=CaseStatus.assigned, agent_id=agent.id, assigned_at=now, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            existing = await session.get(Case, case_id)
            if existing is None:
                raise CaseError("工单不存在", 404)
            raise CaseError("该工单已被其他客服接入或已结束", 409)
        case = (await session.execute(select(Case).where(Case.id == case_id))).scalar_one()
        conv = await session.get(Conversation, case.conversation_id)
        citizen = await session.get(Citizen, case.citizen_id)
        assert conv is not None and citizen is not None
        conv.status = ConversationStatus.assigned
        out = OutboundMessage(sender="system", text=f"人工客服 {agent.display_name} 已接入，为您服务。",
                              metadata={"event": "assigned", "case": case.tracking_no,
                                        "agent_name": agent.display_name})
        msg = await store_outbound(session, conversation=conv, out=out)
        await audit.record(session, actor_id=agent.id, actor_role=agent.role.value, action="case.accept",
                           target_type="case", target_id=case.tracking_no, ip=ip)
        await session.commit()
    await queue.dequeue(ctx.redis, ctx.keys, case_id=case.id)
    await deliver_to_citizen(ctx, citizen=citizen, out=out, message_id=msg.id)
    await notify_agents(ctx, "queue_updated", {"case": case_view(case, citizen=citizen, agent=agent)})
    return case


async def load_case_for_agent(session: AsyncSession, *, case_id: int, agent: User,
                              need_assigned: bool = True) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise CaseError("工单不存在", 404)
    if agent.role.value == "manager":
        return case
    if need_assigned and (case.agent_id != agent.id or case.status != CaseStatus.assigned):
        raise CaseError("该工单不在您的处理中", 403)
    return case


def rating_card(case: Case) -> OutboundMessage:
    """The 好差评 card sent when a case closes. Every button names the case, so a citizen with
    several closed cases rates the one this card is about, whichever card they answer."""
    options = sorted(RATING_LABELS.items(), reverse=True)
    buttons = tuple(Button(title=label, payload="/rate" + json.dumps({"case": case.tracking_no, "score": score}))
                    for score, label in options)
    return OutboundMessage(
        sender="system",
        text=f"本次服务已结束（受理编号 {case.tracking_no}）。请您对本次服务进行评价：",
        buttons=buttons,
        metadata={"event": "rating_request", "case": case.tracking_no, "comment_max_chars": MAX_COMMENT_CHARS,
                  "rating_options": [{"score": score, "label": label} for score, label in options]},
    )


async def close_case(ctx: DeskContext, *, case_id: int, agent: User, note: str = "", ip: str = "") -> Case:
    async with ctx.sessions() as session:
        case = await load_case_for_agent(session, case_id=case_id, agent=agent, need_assigned=False)
        if case.status == CaseStatus.closed:
            raise CaseError("工单已结束", 409)
        if agent.role.value != "manager" and case.agent_id != agent.id:
            raise CaseError("该工单不在您的处理中", 403)
        now = utcnow()
        # Conditional, like accept: of two simultaneous closes (a double click, an agent and a
        # manager) only one changes the row, so the citizen gets one rating card.
        result = await session.execute(
            update(Case).where(Case.id == case.id, Case.status != CaseStatus.closed)
            .values(status=CaseStatus.closed, closed_at=now, close_note=note[:2000], updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise CaseError("工单已结束", 409)
        await session.refresh(case)
        conv = await session.get(Conversation, case.conversation_id)
        citizen = await session.get(Citizen, case.citizen_id)
        assert conv is not None and citizen is not None
        conv.status = ConversationStatus.closed
        conv.closed_at = now
        out = rating_card(case)
        msg = await store_outbound(session, conversation=conv, out=out)
        await audit.record(session, actor_id=agent.id, actor_role=agent.role.value, action="case.close",
                           target_type="case", target_id=case.tracking_no, ip=ip)
        await session.commit()
    await queue.dequeue(ctx.redis, ctx.keys, case_id=case.id)
    await deliver_to_citizen(ctx, citizen=citizen, out=out, message_id=msg.id)
    await notify_agents(ctx, "case_closed", {"case": case_view(case, citizen=citizen, agent=agent)},
                        agent_id=case.agent_id)
    return case
