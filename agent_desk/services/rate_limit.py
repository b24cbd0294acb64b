"""Fixed-window rate limits in Redis, shared by every worker.

A limit is written ``"<count>/<seconds>"`` (``"20/60"``: twenty per minute). The first hit of
a window sets its expiry, so keys vanish on their own.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..redis_keys import RedisKeys


@dataclass(frozen=True)
class Limit:
    count: int
    window_s: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        count, _, window = text.partition("/")
        limit = cls(int(count), int(window or 60))
        if limit.count < 1 or limit.window_s < 1:
            raise ValueError(f"bad rate limit {text!r}")
        return limit


def limit_from_env(name: str, default: str) -> Limit:
    return Limit.parse(os.environ.get(name, "").strip() or default)


async def hit(redis: Redis, keys: RedisKeys, *, scope: str, key: str, limit: Limit) -> int | None:
    """Count one event; ``None`` when allowed, else the seconds until the window ends."""
    now = time.time()
    bucket = int(now // limit.window_s)
    rkey = f"{keys.rate_limit(scope, key, limit.window_s)}:{bucket}"
    pipe = redis.pipeline(transaction=True)
    pipe.incr(rkey)
    pipe.expire(rkey, limit.window_s + 1, nx=True)
    count, _ = await pipe.execute()
    if int(count) <= limit.count:
        return None
    return max(1, int((bucket + 1) * limit.window_s - now + 0.999))
