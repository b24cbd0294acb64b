"""Case-level figures for managers: the 工单明细 list and its CSV export.

Citizens appear only through what they wrote in a rating, with identity and mobile numbers
masked (``mask_pii``); no name, channel identity or phone of a citizen leaves through here.
"""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.normalize import mask_pii

from ..models import CASE_STATUS_LABELS, Case, Rating, User
from ..reports import day_bounds
from .topics import is_knowledge_topic, last_knowledge_topics, topic_title
from .tracking import CHINA_TZ

CHANNEL_LABELS = {"web": "网页", "miniprogram": "微信小程序"}
REASON_LABELS = {"button": "市民点击转人工", "handoff_intent": "要求人工", "fallback": "多次未识别",
                 "bot_unreachable": "机器人不可用", "crisis": "危机求助"}
RECTIFICATION_LABELS = {"none": "无需整改", "pending": "待整改", "done": "已整改"}
EXPORT_BATCH = 500

CSV_COLUMNS = (
    ("tracking_no", "受理编号"), ("channel_label", "渠道"), ("status_label", "状态"),
    ("created_at", "转人工时间"), ("assigned_at", "接入时间"), ("closed_at", "办结时间"),
    ("agent_name", "坐席"), ("topic_title", "咨询主题"), ("reason_label", "转人工原因"),
    ("rating_label", "评价"), ("rating_comment", "市民意见"), ("rectification_label", "整改状态"),
    ("rectification_note", "整改说明"),
)


@dataclass(frozen=True)
class CasePage:
    rows: list[dict[str, Any]]
    next_before: int | None


def china_time(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def case_record(case: Case, agent_name: str | None, rating: Rating | None, topic: str | None) -> dict[str, Any]:
    """One case as a report row (times in China time); free text masked."""
    return {
        "id": case.id,
        "tracking_no": case.tracking_no,
        "channel": case.channel,
        "channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": case.status.value,
        "status_label": CASE_STATUS_LABELS[case.status],
        "created_at": china_time(case.created_at),
        "assigned_at": china_time(case.assigned_at),
        "closed_at": china_time(case.closed_at),
        "agent_name": agent_name or "",
        "topic_title": topic_title(topic) or "",
        "reason": case.reason,
        "reason_label": REASON_LABELS.get(case.reason, case.reason),
        "rating_score": rating.score if rating else None,
        "rating_label": rating.label if rating else "",
        "rating_comment": mask_pii(rating.comment) if rating else "",
        "rectification": rating.rectification if rating else "",
        "rectification_label": RECTIFICATION_LABELS.get(rating.rectification, "") if rating else "",
        "rectification_note": mask_pii(rating.rectification_note) if rating else "",
    }


async def count_cases(session: AsyncSession, *, start: date, end: date) -> int:
    lo, hi = day_bounds(start, end)
    return int((await session.execute(select(func.count(Case.id)).where(
        Case.created_at >= lo, Case.created_at < hi))).scalar_one())


async def case_page(session: AsyncSession, *, start: date, end: date, limit: int, before: int | None = None,
                    after: int | None = None) -> CasePage:
    """Cases handed off in [start, end] (China dates): newest first below ``before``, or oldest
    first above ``after`` (the export). Keyset pages, so a long range never means a deep OFFSET."""
    lo, hi = day_bounds(start, end)
    stmt = (select(Case, User.display_name, Rating).outerjoin(User, User.id == Case.agent_id)
            .outerjoin(Rating, Rating.case_id == Case.id)
            .where(Case.created_at >= lo, Case.created_at < hi))
    if after is not None:
        stmt = stmt.where(Case.id > after).order_by(Case.id)
    else:
        stmt = stmt.order_by(Case.id.desc())
        if before is not None:
            stmt = stmt.where(Case.id < before)
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    topics = await last_knowledge_topics(session, [c.conversation_id for c, _, _ in rows
                                                   if not is_knowledge_topic(c.topic)])
    records = [case_record(c, name, rating, c.topic if is_knowledge_topic(c.topic) else topics.get(c.conversation_id))
               for c, name, rating in rows]
    return CasePage(rows=records, next_before=records[-1]["id"] if more and after is None else None)


def csv_cell(value: Any) -> str:
    """A cell Excel shows as text: leading = + - @ (formula injection) get a quote mark."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


async def export_cases_csv(sessions: Callable[[], Any], *, start: date, end: date,
                           batch: int = EXPORT_BATCH) -> AsyncIterator[str]:
    """The case list as CSV text chunks: a BOM and the header first, then one chunk per batch.

    Each batch is its own short transaction, so a year's export never holds one open.
    """
    yield "\ufeff" + csv_text([[title for _, title in CSV_COLUMNS]])
    after = 0
    while True:
        async with sessions() as session:
            page = await case_page(session, start=start, end=end, limit=batch, after=after)
        if not page.rows:
            return
        yield csv_text([[csv_cell(row[key]) for key, _ in CSV_COLUMNS] for row in page.rows])
        if len(page.rows) < batch:
            return
        after = page.rows[-1]["id"]
