"""The audit log for managers: read-only, newest first, a page at a time."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest

from ..services import audit
from ..services.tracking import CHINA_TZ
from .common import current_user, desk, parse_count
from .reports import EARLIEST, _date_arg

bp = Blueprint("audit", url_prefix="/api/audit")
FILTER_MAX_CHARS = 64


def _text_arg(request: Request, name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if len(value) > FILTER_MAX_CHARS:
        raise BadRequest(f"{name} 不能超过 {FILTER_MAX_CHARS} 个字符")
    return value or None


@bp.get("/")
async def list_audit(request: Request):  # type: ignore[no-untyped-def]
    """审计日志 (manager). Filters: ``actor`` (username), ``action`` (exact, or a prefix ending in
    ``.``), ``target``, ``from``/``to`` (China dates, inclusive); ``before`` (an entry id) pages on.
    Reading is not itself audited: the log would otherwise fill with its own readings."""
    await current_user(request, "manager")
    limit = min(max(parse_count(request.args.get("limit", "100"), "limit"), 1), 500)
    before = parse_count(request.args.get("before"), "before") if request.args.get("before") else None
    start = _date_arg(request, "from", EARLIEST) if request.args.get("from") else None
    end = _date_arg(request, "to", EARLIEST) if request.args.get("to") else None
    if start and end and end < start:
        raise BadRequest("结束日期不能早于开始日期")
    since = datetime.combine(start, time(), CHINA_TZ) if start else None
    until = datetime.combine(end + timedelta(days=1), time(), CHINA_TZ) if end else None
    async with desk(request).sessions() as session:
        views, next_before = await audit.entries(
            session, actor=_text_arg(request, "actor"), action=_text_arg(request, "action"),
            target=_text_arg(request, "target"), since=since, until=until, before=before, limit=limit)
    return json({"entries": views, "next_before": next_before})
