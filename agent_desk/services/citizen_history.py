"""A web citizen's history across all their conversations, and where they stand now.

Resuming is by message id ("everything after the last id I saw"). Ids are global and are
assigned at insert, so a message can commit a moment after a higher id of the same
citizen (an agent's reply racing a citizen's message). The answer therefore also repeats
the last ``OVERLAP_S`` seconds; the widget drops ids it already has and keeps id order.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import queue
from ..models import Case, CaseStatus, Citizen, Conversation, Message, User, utcnow
from .messages import serialize

if TYPE_CHECKING:
    from ..context import DeskContext

OVERLAP_S = 120
FIRST_PAGE = 200
MAX_PAGE = 500


async def find_citizen(session: AsyncSession, *, channel: str, external_id: str) -> Citizen | None:
    return (await session.execute(select(Citizen).where(
        Citizen.channel == channel, Citizen.external_id == external_id))).scalar_one_or_none()


def history_item(msg: Message) -> dict[str, Any]:
    """What the citizen may see of a message: no delivery errors, no staff-only fields.

    ``serialize`` masks ID, bank card and mobile numbers for staff. What the desk, the bot or an agent
    said reaches the citizen exactly as sent, as the live message did (an agent giving an
    office number must stay readable after a reload); only what the citizen typed stays
    masked in their own history, so a shared or borrowed screen does not show it again.
    """
    data = serialize(msg)
    if msg.sender != "citizen":
        data["text"] = msg.text
    for key in ("delivery", "delivery_error", "private"):
        data.pop(key, None)
    meta = dict(data.get("metadata") or {})
    payload = msg.payload or {}
    if msg.sender == "citizen":
        data["client_id"] = msg.source_id
        raw = payload.get("metadata")
        stored_meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
        meta = {"display_text": stored_meta.get("display_text")} if stored_meta.get("display_text") else {}
    meta["message_id"] = msg.id
    data["metadata"] = meta
    return data


async def citizen_history(session: AsyncSession, *, citizen_id: int, after_id: int = 0, before_id: int = 0,
                          limit: int = MAX_PAGE) -> tuple[list[dict[str, Any]], bool]:
    """Messages the citizen may see, oldest first; ``(items, has_more)``.

    ``after_id == 0`` means "the latest page" (older pages with ``before_id``); otherwise
    everything after ``after_id`` plus the recent overlap window.
    """
    base = select(Message).where(Message.citizen_id == citizen_id, Message.private.is_(False))
    if before_id > 0:
        base = base.where(Message.id < before_id)
        after_id = 0
    if after_id <= 0:
        limit = min(limit, FIRST_PAGE)
        rows = list((await session.execute(base.order_by(Message.id.desc()).limit(limit + 1))).scalars())
        has_more = len(rows) > limit
        rows = list(reversed(rows[:limit]))
    else:
        since = utcnow() - timedelta(seconds=OVERLAP_S)
        stmt = base.where(or_(Message.id > after_id, Message.created_at >= since)).order_by(Message.id)
        rows = list((await session.execute(stmt.limit(limit + 1))).scalars())
        has_more = len(rows) > limit
        rows = rows[:limit]
    return [history_item(m) for m in rows], has_more


async def citizen_state(ctx: DeskContext, session: AsyncSession, *, citizen_id: int) -> dict[str, Any]:
    """bot | queued (with live queue position) | assigned (with agent name) | closed."""
    conv = (await session.execute(select(Conversation).where(Conversation.citizen_id == citizen_id)
                                  .order_by(Conversation.id.desc()).limit(1))).scalar_one_or_none()
    if conv is None:
        return {"status": "bot"}
    state: dict[str, Any] = {"status": conv.status.value, "conversation_id": conv.id}
    case = (await session.execute(select(Case).where(Case.conversation_id == conv.id))).scalar_one_or_none()
    if case is not None:
        state["case"] = case.tracking_no
        if case.status == CaseStatus.queued:
            state["queue_position"] = await queue.position(ctx.redis, ctx.keys, case_id=case.id)
        elif case.status == CaseStatus.assigned and case.agent_id:
            agent = await session.get(User, case.agent_id)
            state["agent_name"] = agent.display_name if agent else None
    return state
