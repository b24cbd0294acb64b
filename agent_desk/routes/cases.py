"""Agent workspace API: the queue, a case's transcript, accept, chat, close."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest, NotFound
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import queue
from ..models import Case, CaseStatus, Citizen, Conversation, Message, Rating, User, utcnow
from ..services import audit
from ..services.agent_messages import send_agent_message
from ..services.case_access import may_read, readable, refused
from ..services.cases import CaseError, accept_case, case_view, close_case
from ..services.delivery import notify_agents
from ..services.messages import serialize, transcript
from ..services.topics import is_knowledge_topic, last_knowledge_topics
from .common import (
    NOTE_MAX_CHARS,
    bool_field,
    client_ip,
    current_user,
    desk,
    json_body,
    parse_count,
    parse_id,
    str_field,
)

bp = Blueprint("cases", url_prefix="/api/cases")
STAFF = ("agent", "manager")
CLOSED_SHOWN = 200  # the 已结束 tab shows the most recently closed cases


def _with_people() -> Select[Case, Citizen, User, Rating]:
    """A case with its citizen, its own agent (not whoever acted on it) and its rating."""
    return (select(Case, Citizen, User, Rating).join(Citizen, Citizen.id == Case.citizen_id)
            .outerjoin(User, User.id == Case.agent_id).outerjoin(Rating, Rating.case_id == Case.id))


async def _views(session: AsyncSession, rows: list, positions: dict[int, int]) -> list[dict]:  # type: ignore[type-arg]
    topics = await last_knowledge_topics(
        session, [c.conversation_id for c, *_ in rows if not is_knowledge_topic(c.topic)])
    return [case_view(c, citizen=z, agent=a, rating=r, position=positions.get(c.id),
                      knowledge_topic=topics.get(c.conversation_id)) for c, z, a, r in rows]


async def _view_of(request: Request, case_id: int, user: User) -> dict:  # type: ignore[type-arg]
    ctx = desk(request)
    async with ctx.sessions() as session:
        row = (await session.execute(_with_people().where(Case.id == case_id))).one_or_none()
        if row is None:
            raise NotFound("工单不存在")
        case = row[0]
        if not may_read(user, case):
            raise await refused(session, user, case, read="case", ip=client_ip(request))
        pos = await queue.position(ctx.redis, ctx.keys, case_id=case_id) if case.status == CaseStatus.queued else None
        return (await _views(session, [tuple(row)], {case_id: pos} if pos else {}))[0]


@bp.get("/")
async def list_cases(request: Request):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    ctx = desk(request)
    status = request.args.get("status", "queued")
    async with ctx.sessions() as session:
        stmt = _with_people()
        if status == "mine":
            stmt = stmt.where(Case.agent_id == user.id, Case.status == CaseStatus.assigned)
        elif status in {s.value for s in CaseStatus}:
            stmt = readable(stmt.where(Case.status == CaseStatus(status)), user)
        else:
            raise BadRequest("status 取值应为 queued / assigned / closed / mine")
        if status == CaseStatus.closed.value:
            stmt = stmt.order_by(Case.closed_at.desc(), Case.id.desc()).limit(CLOSED_SHOWN)
        else:
            stmt = stmt.order_by(Case.created_at).limit(500)
        rows = [tuple(r) for r in (await session.execute(stmt)).all()]
        order = {cid: i + 1 for i, cid in enumerate(await queue.waiting_ids(ctx.redis, ctx.keys))}
        return json({"cases": await _views(session, rows, order)})


@bp.get("/<case_id>")
async def get_case(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    return json({"case": await _view_of(request, parse_id(case_id, "工单"), user)})


@bp.get("/<case_id>/messages")
async def case_messages(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    """The whole conversation, including the bot part before handoff."""
    user = await current_user(request, *STAFF)
    ctx = desk(request)
    after = parse_count(request.args.get("after", "0"), "after")
    async with ctx.sessions() as session:
        case = await session.get(Case, parse_id(case_id, "工单"))
        if case is None:
            raise NotFound("工单不存在")
        if not may_read(user, case):
            raise await refused(session, user, case, read="messages", ip=client_ip(request))
        msgs = await transcript(session, conversation_id=case.conversation_id, after_id=after)
        await audit.record(session, actor_id=user.id, actor_role=user.role.value, action="case.view",
                           target_type="case", target_id=case.tracking_no, ip=client_ip(request))
        await session.commit()
    return json({"case_id": case.id, "messages": [serialize(m) for m in msgs]})


@bp.post("/<case_id>/accept")
async def accept(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    try:
        case = await accept_case(desk(request), case_id=parse_id(case_id, "工单"), agent=user, ip=client_ip(request))
    except CaseError as exc:
        return json({"error": str(exc)}, status=exc.code)
    return json({"case": await _view_of(request, case.id, user)})


@bp.post("/<case_id>/messages")
async def post_message(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    body = json_body(request)
    try:
        sent = await send_agent_message(desk(request), case_id=parse_id(case_id, "工单"), agent=user,
                                        text=str_field(body, "text"), private=bool_field(body, "private"),
                                        client_id=str_field(body, "client_id") or None,
                                        ip=client_ip(request))
    except CaseError as exc:
        return json({"error": str(exc)}, status=exc.code)
    # A repeated client_id is the same request retried: 200 with the message stored the first time.
    return json({"message": sent.message, "duplicate": sent.duplicate}, status=200 if sent.duplicate else 201)


@bp.post("/<case_id>/read")
async def mark_read(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    """The agent has seen the citizen's messages up to ``up_to``: the widget shows 已读."""
    user = await current_user(request, *STAFF)
    body = json_body(request)
    up_to = parse_count(body.get("up_to", 0), "up_to")
    ctx = desk(request)
    async with ctx.sessions() as session:
        case = await session.get(Case, parse_id(case_id, "工单"))
        if case is None or (user.role.value != "manager" and case.agent_id != user.id):
            # Only the agent serving the citizen may tell them their messages were read.
            raise NotFound("工单不存在")
        rows = list((await session.execute(select(Message).where(
            Message.conversation_id == case.conversation_id, Message.sender == "citizen",
            Message.id <= up_to, Message.read_at.is_(None)))).scalars())
        now = utcnow()
        for m in rows:
            m.read_at = now
        conv = await session.get(Conversation, case.conversation_id)
        citizen = await session.get(Citizen, case.citizen_id)
        await session.commit()
    if rows and citizen is not None and conv is not None:
        await ctx.sio.emit("read_receipt", {"message_ids": [m.id for m in rows]},
                           room=f"{citizen.channel}:{citizen.external_id}", namespace="/")
    return json({"read": [m.id for m in rows]})


@bp.post("/<case_id>/close")
async def close(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    body = json_body(request)
    try:
        case = await close_case(desk(request), case_id=parse_id(case_id, "工单"), agent=user,
                                note=str_field(body, "note", max_len=NOTE_MAX_CHARS), ip=client_ip(request))
    except CaseError as exc:
        return json({"error": str(exc)}, status=exc.code)
    return json({"case": await _view_of(request, case.id, user)})


@bp.post("/<case_id>/typing")
async def typing(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, *STAFF)
    ctx = desk(request)
    async with ctx.sessions() as session:
        case = await session.get(Case, parse_id(case_id, "工单"))
        citizen = await session.get(Citizen, case.citizen_id) if case else None
    if case is None or citizen is None or case.agent_id != user.id:
        raise NotFound("工单不存在")
    await ctx.sio.emit("agent_typing", {"agent_name": user.display_name},
                       room=f"{citizen.channel}:{citizen.external_id}", namespace="/")
    return json({"ok": True})


__all__ = ["bp", "notify_agents"]
