"""Manager reports API: the summary, the case list (工单明细) and its CSV export."""
from __future__ import annotations

import logging
from datetime import date, datetime
from urllib.parse import quote

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest

from ..reports import summary
from ..services import audit
from ..services.reports import case_page, count_cases, export_cases_csv
from ..services.tracking import CHINA_TZ
from .common import client_ip, current_user, desk, parse_count

log = logging.getLogger("desk.reports")

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


def _range(request: Request) -> tuple[date, date]:
    today = datetime.now(CHINA_TZ).date()
    start = _date_arg(request, "from", today)
    end = _date_arg(request, "to", today)
    if end < start:
        raise BadRequest("结束日期不能早于开始日期")
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest(f"查询范围不能超过 {MAX_RANGE_DAYS} 天")
    return start, end


async def _audit(session, request: Request, user, *, action: str, target: str,  # type: ignore[no-untyped-def]
                 start: date, end: date, **detail: object) -> None:
    """Every report a manager reads or exports is audited with its date range."""
    await audit.record(session, actor_id=user.id, actor_role=user.role.value, action=action,
                       target_type="report", target_id=target,
                       detail={"from": start.isoformat(), "to": end.isoformat(), **detail}, ip=client_ip(request))


@bp.get("/summary")
async def report_summary(request: Request):  # type: ignore[no-untyped-def]
    user = await current_user(request, "manager")
    start, end = _range(request)
    ctx = desk(request)
    async with ctx.sessions() as session:
        data = await summary(session, start=start, end=end)
        await _audit(session, request, user, action="report.view", target="summary", start=start, end=end)
        await session.commit()
    return json(data)


@bp.get("/cases")
async def report_cases(request: Request):  # type: ignore[no-untyped-def]
    """工单明细: cases handed off in the range, newest first, a page at a time (``before``)."""
    user = await current_user(request, "manager")
    start, end = _range(request)
    limit = min(max(parse_count(request.args.get("limit", "50"), "limit"), 1), 200)
    before = parse_count(request.args.get("before"), "before") if request.args.get("before") else None
    ctx = desk(request)
    async with ctx.sessions() as session:
        page = await case_page(session, start=start, end=end, limit=limit, before=before)
        total = await count_cases(session, start=start, end=end)
        await _audit(session, request, user, action="report.view", target="cases", start=start, end=end,
                     before=before)
        await session.commit()
    return json({"from": start.isoformat(), "to": end.isoformat(), "total": total, "cases": page.rows,
                 "next_before": page.next_before})


@bp.get("/cases.csv")
async def export_cases(request: Request):  # type: ignore[no-untyped-def]
    """The case list as a CSV file (UTF-8 with BOM for Excel), streamed batch by batch."""
    user = await current_user(request, "manager")
    start, end = _range(request)
    ctx = desk(request)
    async with ctx.sessions() as session:
        total = await count_cases(session, start=start, end=end)
        # Audited before the first byte: an export that breaks off half-way was still an export.
        await _audit(session, request, user, action="report.export", target="cases", start=start, end=end,
                     rows=total)
        await session.commit()
    name = f"工单明细_{start.isoformat()}_{end.isoformat()}.csv"
    response = await request.respond(content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"cases_{start.isoformat()}_{end.isoformat()}.csv\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
        "X-Total-Rows": str(total)})
    try:
        async for chunk in export_cases_csv(ctx.sessions, start=start, end=end):
            await response.send(chunk.encode("utf-8"))  # type: ignore[union-attr]
    except Exception:
        log.exception("case export broke off", extra={"from": start.isoformat(), "to": end.isoformat()})
        raise
    await response.eof()  # type: ignore[union-attr]
