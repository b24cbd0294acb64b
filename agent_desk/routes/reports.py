"""Manager reports API."""
from __future__ import annotations

from datetime import date, datetime

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest

from ..reports import summary
from ..services import audit
from ..services.tracking import CHINA_TZ
from .common import client_ip, current_user, desk

bp = Blueprint("reports", url_prefix="/api/reports")
MAX_RANGE_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _date_arg(request: Request, name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} 应为 YYYY-MM-DD 格式的日期") from None
    if not EARLIEST <= value <= LATEST:
        raise BadRequest(f"{name} 应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间")
    return value


@bp.get("/summary")
async def report_summary(request: Request):  # type: ignore[no-untyped-def]
    user = await current_user(request, "manager")
    today = datetime.now(CHINA_TZ).date()
    start = _date_arg(request, "from", today)
    end = _date_arg(request, "to", today)
    if end < start:
        raise BadRequest("结束日期不能早于开始日期")
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest(f"查询范围不能超过 {MAX_RANGE_DAYS} 天")
    ctx = desk(request)
    async with ctx.sessions() as session:
        data = await summary(session, start=start, end=end)
        await audit.record(session, actor_id=user.id, actor_role=user.role.value, action="report.view",
                           target_type="report", target_id="summary",
                           detail={"from": start.isoformat(), "to": end.isoformat()}, ip=client_ip(request))
        await session.commit()
    return json(data)
