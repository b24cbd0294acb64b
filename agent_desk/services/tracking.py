"""Tracking numbers for cases: SL<yyyymmdd>-<nnnn>, per local (China) day, unique under concurrency."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import CaseCounter

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
TRACKING_RE = re.compile(r"SL(\d{8})-(\d{4,})", re.IGNORECASE)


async def next_tracking_no(session: AsyncSession, *, now: datetime) -> str:
    """Bump the day's counter with one atomic upsert and format the number.

    The row lock taken by the upsert is held until the caller's transaction commits, so two
    concurrent cases never read the same value (PostgreSQL), and SQLite serialises writers.
    """
    day = now.astimezone(CHINA_TZ).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(CaseCounter).values(day=day, last=1).on_conflict_do_update(
        index_elements=[CaseCounter.day], set_={"last": CaseCounter.last + 1}
    ).returning(CaseCounter.last)
    seq = (await session.execute(stmt)).scalar_one()
    return f"SL{day}-{seq:04d}"


def parse_tracking_no(text: str) -> str | None:
    """Find a tracking number in free text (any case); returns it upper-cased."""
    m = TRACKING_RE.search(text)
    return m.group(0).upper() if m else None
