"""The waiting queue of handed-off cases, in Redis, rebuilt from the database on start.

The database is the source of truth (a case's status); Redis gives every worker the same
ordered view and cheap queue positions.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Case, CaseStatus
from .redis_keys import RedisKeys

if TYPE_CHECKING:
    from redis.asyncio import Redis


# Urgent cases (a citizen in crisis) wait ahead of all others, in the order they became urgent:
# their score is moved this far (about 300 years of seconds) before every creation time.
URGENT_LEAD_S = 10_000_000_000


def score(case: Case) -> float:
    """A case's place in the queue: creation time, or urgency time moved ahead of all."""
    if case.urgent_at is not None:
        return case.urgent_at.timestamp() - URGENT_LEAD_S
    return case.created_at.timestamp()


async def enqueue(redis: Redis, keys: RedisKeys, *, case_id: int, score: float) -> None:
    await redis.zadd(keys.queue, {str(case_id): score}, nx=True)


async def move_ahead(redis: Redis, keys: RedisKeys, *, case_id: int, score: float) -> None:
    """A waiting case became urgent: its new score, only if it is still waiting."""
    await redis.zadd(keys.queue, {str(case_id): score}, xx=True)


async def dequeue(redis: Redis, keys: RedisKeys, *, case_id: int) -> None:
    await redis.zrem(keys.queue, str(case_id))


async def position(redis: Redis, keys: RedisKeys, *, case_id: int) -> int | None:
    """1-based place in the queue, or None when the case is not waiting."""
    rank = await redis.zrank(keys.queue, str(case_id))
    return None if rank is None else int(rank) + 1  # type: ignore[arg-type]


async def waiting_ids(redis: Redis, keys: RedisKeys) -> list[int]:
    return [int(x) for x in await redis.zrange(keys.queue, 0, -1)]  # type: ignore[arg-type]


async def rebuild(redis: Redis, keys: RedisKeys, session: AsyncSession) -> int:
    """Make Redis match the database: every queued case in, nothing else."""
    cases = (await session.execute(select(Case).where(Case.status == CaseStatus.queued))).scalars().all()
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.queue)
    if cases:
        pipe.zadd(keys.queue, {str(case.id): score(case) for case in cases})
    await pipe.execute()
    return len(cases)
