"""Service-to-service API for the bot's action server (case status look-ups)."""
from __future__ import annotations

import hmac

from sanic import Blueprint, Request, json
from sanic.exceptions import NotFound, Unauthorized
from sqlalchemy import select

from ..models import CASE_STATUS_LABELS, Case
from ..services.tracking import parse_tracking_no
from .common import desk

bp = Blueprint("internal", url_prefix="/api/internal")


def _require_service(request: Request) -> None:
    expected = desk(request).settings.service_token
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("服务令牌无效。")


@bp.get("/cases/<tracking_no>")
async def case_status(request: Request, tracking_no: str):  # type: ignore[no-untyped-def]
    _require_service(request)
    number = parse_tracking_no(tracking_no)
    if number is None:
        raise NotFound("未找到该受理编号")
    async with desk(request).sessions() as session:
        case = (await session.execute(select(Case).where(Case.tracking_no == number))).scalar_one_or_none()
    owner = request.args.get("citizen_id")
    if case is None or (owner is not None and str(case.citizen_id) != owner):
        # A case is only shown to the citizen it belongs to (when the bot says who is asking).
        raise NotFound("未找到该受理编号")
    return json({"tracking_no": case.tracking_no, "status": case.status.value,
                 "status_label": CASE_STATUS_LABELS[case.status], "channel": case.channel,
                 "created_at": case.created_at.isoformat(), "updated_at": case.updated_at.isoformat()})
