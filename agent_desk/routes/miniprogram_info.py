"""Channel facts an agent needs before answering a case: for WeChat, the 48-hour window.

GET /api/cases/<id>/channel-info → {channel, window: {...} | null, undelivered}. WeChat only
accepts customer-service messages within 48 hours of the citizen's last message, and only
a few per citizen message; the agent sees when the window ends and how many are left.
"""
from __future__ import annotations

from datetime import timedelta

from sanic import Blueprint, Request, json
from sanic.exceptions import NotFound
from sqlalchemy import func, select

from ..models import Case, Citizen, Message, utcnow
from ..services.case_access import may_read, refused
from .common import client_ip, current_user, desk, parse_id

WINDOW = timedelta(hours=48)
MESSAGES_PER_CITIZEN_MESSAGE = 5


async def channel_info(request: Request, case_id: str):  # type: ignore[no-untyped-def]
    user = await current_user(request, "agent", "manager")
    ctx = desk(request)
    cid = parse_id(case_id, "工单")
    async with ctx.sessions() as session:
        case = await session.get(Case, cid)
        if case is None:
            raise NotFound("工单不存在")
        if not may_read(user, case):
            raise await refused(session, user, case, read="channel_info", ip=client_ip(request))
        last = (await session.execute(select(func.max(Message.created_at)).where(
            Message.citizen_id == case.citizen_id, Message.sender == "citizen"))).scalar_one_or_none()
        undelivered = (await session.execute(select(func.count(Message.id)).where(
            Message.conversation_id == case.conversation_id, Message.delivery == "undelivered"))).scalar_one()
        citizen_external = None
        if case.channel == "miniprogram":
            citizen = await session.get(Citizen, case.citizen_id)
            citizen_external = citizen.external_id if citizen else None
    window = None
    if case.channel == "miniprogram":
        now = utcnow()
        ends = last + WINDOW if last else None
        sent = int(await ctx.redis.get(ctx.keys.wechat_sent_count(citizen_external)) or 0) if citizen_external else 0
        window = {
            "last_citizen_message_at": last.isoformat() if last else None,
            "ends_at": ends.isoformat() if ends else None,
            "open": bool(ends and ends > now),
            "seconds_left": max(0, int((ends - now).total_seconds())) if ends else 0,
            "messages_left": max(0, MESSAGES_PER_CITIZEN_MESSAGE - sent),
        }
    return json({"case_id": case.id, "channel": case.channel, "window": window, "undelivered": undelivered})


def make_blueprint() -> Blueprint:
    bp = Blueprint("miniprogram_info")
    bp.add_route(channel_info, "/api/cases/<case_id>/channel-info", methods=["GET"])
    return bp
