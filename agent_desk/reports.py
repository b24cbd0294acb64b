"""Service and satisfaction figures for managers, over a date range (China local dates)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import RATING_LABELS, Case, CaseStatus, Conversation, Rating
from .services.tracking import CHINA_TZ


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in China time, as aware datetimes."""
    return (datetime.combine(start, time.min, CHINA_TZ),
            datetime.combine(end + timedelta(days=1), time.min, CHINA_TZ))


async def summary(session: AsyncSession, *, start: date, end: date) -> dict[str, Any]:
    lo, hi = day_bounds(start, end)
    conversations = (await session.execute(select(func.count(Conversation.id)).where(
        Conversation.created_at >= lo, Conversation.created_at < hi))).scalar_one()
    handoffs = (await session.execute(select(func.count(Case.id)).where(
        Case.created_at >= lo, Case.created_at < hi))).scalar_one()
    closed = (await session.execute(select(func.count(Case.id)).where(
        Case.status == CaseStatus.closed, Case.closed_at >= lo, Case.closed_at < hi))).scalar_one()
    by_reason = dict((await session.execute(select(Case.reason, func.count(Case.id)).where(
        Case.created_at >= lo, Case.created_at < hi).group_by(Case.reason))).all())
    rating_rows = dict((await session.execute(select(Rating.score, func.count(Rating.id)).where(
        Rating.created_at >= lo, Rating.created_at < hi).group_by(Rating.score))).all())
    total_ratings = sum(rating_rows.values())
    pending = (await session.execute(select(func.count(Rating.id)).where(
        Rating.rectification == "pending"))).scalar_one()
    distribution = [{"score": s, "label": RATING_LABELS[s], "count": int(rating_rows.get(s, 0))}
                    for s in sorted(RATING_LABELS, reverse=True)]
    satisfied = sum(int(rating_rows.get(s, 0)) for s in (5, 4, 3))
    avg = (sum(s * n for s, n in rating_rows.items()) / total_ratings) if total_ratings else None
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "conversations": int(conversations),
        "handoffs": int(handoffs),
        "handoff_reasons": {k: int(v) for k, v in by_reason.items()},
        "cases_closed": int(closed),
        "ratings": {"total": total_ratings, "distribution": distribution,
                    "average_score": round(avg, 2) if avg is not None else None,
                    # 好评率 as the 好差评 system counts it: 非常满意 + 满意 + 基本满意
                    "satisfaction_rate": round(satisfied / total_ratings, 4) if total_ratings else None,
                    # open 整改 follow-ups of bad ratings, whatever their date
                    "rectification_pending": int(pending)},
    }
