"""Login throttling in Redis, shared by every worker: per username and per client address.

Failures are counted in a window (``DESK_LOGIN_FAILURE_WINDOW_S``, 15 min); when a username
reaches ``DESK_LOGIN_MAX_FAILURES`` (5) or an address ``DESK_LOGIN_IP_MAX_FAILURES`` (20),
logins for it are refused for ``DESK_LOGIN_LOCK_S`` (15 min), even with the right password.
Usernames are counted whether or not the account exists, so a lockout tells nothing about
which usernames are real. A successful login clears its username's count, not the
address's (or one valid account would let an address guess at all the others).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..redis_keys import RedisKeys
    from ..settings import Settings

Scope = Literal["user", "ip"]


@dataclass(frozen=True)
class Lockout:
    scope: Scope
    retry_after_s: int
    failures: int = 0  # the count that caused it; 0 when the lock was already there


def _subject(scope: Scope, value: str) -> str:
    # Usernames are case-folded (so "Agent" counts against "agent") and hashed, so any
    # string a client sends makes a short, safe key.
    text = value.strip().casefold() if scope == "user" else value
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fail_key(keys: RedisKeys, scope: Scope, value: str) -> str:
    return f"{keys.prefix}:auth:login_failures:{scope}:{_subject(scope, value)}"


def _lock_key(keys: RedisKeys, scope: Scope, value: str) -> str:
    return f"{keys.prefix}:auth:login_lock:{scope}:{_subject(scope, value)}"


async def current_lock(redis: Redis, keys: RedisKeys, *, username: str, ip: str) -> Lockout | None:
    """The lock in force for this username or address, the longer one if both are locked."""
    pipe = redis.pipeline(transaction=False)
    pipe.ttl(_lock_key(keys, "user", username))
    pipe.ttl(_lock_key(keys, "ip", ip))
    user_ttl, ip_ttl = (int(ttl) for ttl in await pipe.execute())  # -2: no lock
    locks = [lock for lock in (Lockout("user", user_ttl), Lockout("ip", ip_ttl)) if lock.retry_after_s > 0]
    return max(locks, key=lambda lock: lock.retry_after_s) if locks else None


@dataclass(frozen=True)
class Failure:
    locks: list[Lockout]  # the locks this failure started (empty while under the limits)
    user_failures_left: int  # before the username is locked


async def record_failure(redis: Redis, keys: RedisKeys, settings: Settings, *, username: str, ip: str) -> Failure:
    """Count a failed login for the username and the address."""
    window = settings.login_failure_window_s
    counted: list[tuple[Scope, str, int]] = [("user", username, settings.login_max_failures),
                                             ("ip", ip, settings.login_ip_max_failures)]
    pipe = redis.pipeline(transaction=True)
    for scope, value, _limit in counted:
        pipe.incr(_fail_key(keys, scope, value))
        pipe.expire(_fail_key(keys, scope, value), window, nx=True)
    results = await pipe.execute()
    started: list[Lockout] = []
    for (scope, value, limit), count in zip(counted, results[::2], strict=True):
        if int(count) >= limit:
            # Only the request that sets the lock reports it (and gets it audited).
            if await redis.set(_lock_key(keys, scope, value), "1", ex=settings.login_lock_s, nx=True):
                started.append(Lockout(scope, settings.login_lock_s, int(count)))
            await redis.delete(_fail_key(keys, scope, value))
    return Failure(started, max(0, settings.login_max_failures - int(results[0])))


async def clear_user(redis: Redis, keys: RedisKeys, *, username: str) -> None:
    await redis.delete(_fail_key(keys, "user", username))


async def unlock_user(redis: Redis, keys: RedisKeys, *, username: str) -> bool:
    """Lift the username's lock and forget its counted failures (a manager's 解锁); whether it
    was locked. The address's lock and count are left: one account's unlock must not let an
    address that guessed at many accounts go on."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(_lock_key(keys, "user", username))
    pipe.delete(_fail_key(keys, "user", username))
    locked, _failures = await pipe.execute()
    return int(locked) > 0


async def user_locks(redis: Redis, keys: RedisKeys, usernames: list[str]) -> dict[str, int]:
    """Seconds left on each username's login lock (0 when it is not locked), read from the same
    keys the login checks; one round trip for the whole list. Address locks are not counted:
    they are not the account's."""
    if not usernames:
        return {}
    pipe = redis.pipeline(transaction=False)
    for name in usernames:
        pipe.ttl(_lock_key(keys, "user", name))
    ttls = await pipe.execute()
    return {name: max(0, int(ttl)) for name, ttl in zip(usernames, ttls, strict=True)}
