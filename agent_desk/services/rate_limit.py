"""Sliding-window rate limits in Redis, shared by every worker.

A limit is written ``"<count>/<seconds>"`` (``"20/60"``: twenty in any sixty seconds). Each
allowed event is a member of a Redis sorted set scored by its time; one Lua script drops the
events older than the window, counts the rest and adds the new one only if it is allowed, so
a burst straddling a minute boundary gets no more than ``count`` through (a fixed window let
nearly twice as many pass). Refused attempts are not recorded: a citizen who waits the time
they were told can send again. Keys expire a window after their last event.
"""
from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..redis_keys import RedisKeys

# KEYS[1] the set; ARGV: now (s), window (s), count, a unique member. Returns "ok", or the score of
# the oldest event still in the window (a string: Lua numbers become integers in Redis replies).
_SLIDING_WINDOW = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return 'ok'
end
return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
"""


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


async def hit(redis: Redis, keys: RedisKeys, *, scope: str, key: str, limit: Limit,
              now: float | None = None) -> int | None:
    """Count one event; ``None`` when allowed, else the whole seconds until one is allowed again."""
    now = time.time() if now is None else now
    rkey = f"{keys.rate_limit(scope, key, limit.window_s)}:sw"
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    result = await redis.eval(_SLIDING_WINDOW, 1, rkey, repr(now), limit.window_s, limit.count, member)
    if isinstance(result, bytes):
        result = result.decode()
    if result == "ok":
        return None
    return max(1, math.ceil(float(result) + limit.window_s - now))
