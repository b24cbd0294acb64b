"""Tracking numbers: format, per-day sequence, unique under concurrency on PostgreSQL."""
from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from agent_desk.services.tracking import next_tracking_no, parse_tracking_no


async def test_concurrent_numbers_are_unique_and_dense(desk_ctx) -> None:
    # A day far in the future so other tests' cases do not share the counter.
    day = datetime(2031, 5, 6, 3, 0, tzinfo=UTC)

    async def one() -> str:
        async with desk_ctx.sessions() as session:
            number = await next_tracking_no(session, now=day)
            await asyncio.sleep(0.01)  # hold the row lock a little, as a real case insert would
            await session.commit()
            return number

    numbers = await asyncio.gather(*(one() for _ in range(25)))
    assert len(set(numbers)) == 25
    assert all(re.fullmatch(r"SL20310506-\d{4}", n) for n in numbers)
    seqs = sorted(int(n[-4:]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 25))


async def test_day_is_china_local_date(desk_ctx) -> None:
    # 2032-01-01 17:30 UTC is already 2 January in China (UTC+8).
    async with desk_ctx.sessions() as session:
        number = await next_tracking_no(session, now=datetime(2032, 1, 1, 17, 30, tzinfo=UTC))
        await session.rollback()
    assert number.startswith("SL20320102-")


def test_parse_tracking_number_in_free_text() -> None:
    assert parse_tracking_no("我的编号是sl20261203-0042，请查一下") == "SL20261203-0042"
    assert parse_tracking_no("没有编号") is None
