"""Rate limits are a sliding window: no burst gets more than the limit through in any window,
however it lines up with the clock. Real Redis."""
from __future__ import annotations

import uuid

from agent_desk.services import rate_limit

LIMIT = rate_limit.Limit(20, 60)


async def hits(ctx, key: str, at: float, n: int) -> list[int | None]:  # type: ignore[no-untyped-def]
    return [await rate_limit.hit(ctx.redis, ctx.keys, scope="test", key=key, limit=LIMIT, now=at) for _ in range(n)]


async def test_a_burst_straddling_a_minute_boundary_gets_no_more_than_the_limit(desk_ctx) -> None:
    key = uuid.uuid4().hex
    minute = 60 * 29_000_000  # some whole minute, as the fixed window counted them
    before = await hits(desk_ctx, key, minute - 1.5, 15)
    after = await hits(desk_ctx, key, minute + 0.5, 15)
    allowed = [r for r in before + after if r is None]
    assert len(allowed) == 20
    # The refused ones are told when the first of the burst leaves the window (58 s after the second half).
    assert set(after[5:]) == {58}


async def test_the_window_slides(desk_ctx) -> None:
    key = uuid.uuid4().hex
    t0 = 1_800_000_000.0
    assert [r is None for r in await hits(desk_ctx, key, t0, 10)] == [True] * 10
    assert [r is None for r in await hits(desk_ctx, key, t0 + 30, 12)] == [True] * 10 + [False] * 2
    # 59 s after the first ten they still count; at 60 s they have left the window.
    assert await hits(desk_ctx, key, t0 + 59.9, 1) == [1]
    assert [r is None for r in await hits(desk_ctx, key, t0 + 60, 11)] == [True] * 10 + [False]
    # Refused attempts are not counted: after waiting the time given, the citizen gets through.
    retry = (await hits(desk_ctx, key, t0 + 61, 1))[0]
    assert retry == 29
    assert await hits(desk_ctx, key, t0 + 61 + retry, 1) == [None]


async def test_keys_expire_on_their_own(desk_ctx) -> None:
    key = uuid.uuid4().hex
    await hits(desk_ctx, key, 1_800_000_000.0, 1)
    rkey = f"{desk_ctx.keys.rate_limit('test', key, LIMIT.window_s)}:sw"
    ttl = await desk_ctx.redis.pttl(rkey)
    assert 0 < ttl <= 61_000
