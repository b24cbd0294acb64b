"""An agent's message or private note on a case they serve: stored once (a retried request with
the same client id gets the first one back), audited, sent to the citizen, shown to the agents."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import OutboundMessage

from ..context import DeskContext
from ..models import Case, CaseStatus, Citizen, Conversation, Message, User
from . import audit
from .cases import CaseError, load_case_for_agent
from .delivery import deliver_to_citizen, notify_agents, with_message_id
from .messages import serialize, store_message, store_outbound


@dataclass(frozen=True)
class AgentMessage:
    """What ``send_agent_message`` stored; ``duplicate`` when the client id was already used
    (a retried request), and then nothing was stored or sent again."""

    message: dict[str, Any]
    duplicate: bool = False


def agent_source_id(agent: User, client_id: str) -> str:
    return f"agent:{agent.id}:{client_id}"[:128]


async def _stored_agent_message(session: AsyncSession, *, citizen_id: int, source_id: str) -> Message | None:
    return (await session.execute(select(Message).where(
        Message.citizen_id == citizen_id, Message.source_id == source_id))).scalar_one_or_none()


async def send_agent_message(ctx: DeskContext, *, case_id: int, agent: User, text: str,
                             private: bool = False, client_id: str | None = None,
                             attachment: dict[str, Any] | None = None, ip: str = "") -> AgentMessage:
    """Store an agent's message (or private note) and send it to the citizen.

    ``client_id`` makes the request idempotent: a retried request (the agent's browser never saw
    the answer) gets the message stored the first time, and the citizen gets it only once. The
    source id carries the agent's id, so an agent only ever finds their own messages by it.
    """
    text = (text or "").strip()
    if not text and not attachment:
        raise CaseError("消息不能为空", 400)
    if len(text) > 4000:
        raise CaseError("消息过长，请分段发送（最多4000字）", 400)
    source_id = agent_source_id(agent, client_id) if client_id else None
    async with ctx.sessions() as session:
        if source_id is not None:
            # Before the state checks: a retry after the case closed still gets its answer.
            case_row = await session.get(Case, case_id)
            if case_row is not None:
                earlier = await _stored_agent_message(session, citizen_id=case_row.citizen_id, source_id=source_id)
                if earlier is not None:
                    return AgentMessage(serialize(earlier), duplicate=True)
        case = await load_case_for_agent(session, case_id=case_id, agent=agent)
        if case.status != CaseStatus.assigned:
            raise CaseError("工单未在处理中", 409)
        conv = await session.get(Conversation, case.conversation_id)
        citizen = await session.get(Citizen, case.citizen_id)
        assert conv is not None and citizen is not None
        out = OutboundMessage(sender="agent", text=text, attachment=attachment,
                              metadata={"agent_name": agent.display_name, "case": case.tracking_no})
        try:
            async with session.begin_nested():
                if private:
                    msg = await store_message(session, conversation=conv, sender="agent", text=text,
                                              agent_id=agent.id, private=True, source_id=source_id,
                                              payload={"metadata": out.metadata})
                else:
                    msg = await store_outbound(session, conversation=conv, out=out, agent_id=agent.id,
                                               source_id=source_id)
        except IntegrityError:  # the same request, retried while the first was still being stored
            assert source_id is not None
            earlier = await _stored_agent_message(session, citizen_id=citizen.id, source_id=source_id)
            if earlier is None:
                raise
            return AgentMessage(serialize(earlier), duplicate=True)
        await audit.record(session, actor_id=agent.id, actor_role=agent.role.value,
                           action="message.note" if private else "message.send",
                           target_type="case", target_id=case.tracking_no, detail={"message_id": msg.id}, ip=ip)
        await session.commit()
        data = serialize(msg)
    if not private:
        await deliver_to_citizen(ctx, citizen=citizen, out=with_message_id(out, msg.id), message_id=msg.id)
    await notify_agents(ctx, "case_message", {"case_id": case.id, "message": data}, agent_id=agent.id)
    return AgentMessage(data)
