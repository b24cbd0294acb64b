"""Login throttling on the real Redis, in process: counting, locking, expiry, settings."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from agent_desk.services import login_throttle
from agent_desk.settings import Settings, SettingsError


async def test_a_lock_starts_once_and_ends_by_itself(desk_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = desk_ctx
    settings = dataclasses.replace(ctx.settings, login_max_failures=2, login_ip_max_failures=50, login_lock_s=1)
    args = {"username": "clerk", "ip": "203.0.113.9"}
    first = await login_throttle.record_failure(ctx.redis, ctx.keys, settings, **args)
    assert first.locks == [] and first.user_failures_left == 1
    assert await login_throttle.current_lock(ctx.redis, ctx.keys, **args) is None
    second = await login_throttle.record_failure(ctx.redis, ctx.keys, settings, **args)
    assert second.locks == [login_throttle.Lockout("user", 1, 2)]
    lock = await login_throttle.current_lock(ctx.redis, ctx.keys, username=" CLERK", ip="203.0.113.10")
    assert lock is not None and lock.scope == "user"
    deadline = asyncio.get_running_loop().time() + 5
    while await login_throttle.current_lock(ctx.redis, ctx.keys, **args) is not None:
        assert asyncio.get_running_loop().time() < deadline, "the lock did not expire"
        await asyncio.sleep(0.1)
    # The count started again from zero after the lock.
    again = await login_throttle.record_failure(ctx.redis, ctx.keys, settings, **args)
    assert again.locks == [] and again.user_failures_left == 1


async def test_clearing_the_username_keeps_the_address_count(desk_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = desk_ctx
    settings = dataclasses.replace(ctx.settings, login_max_failures=3, login_ip_max_failures=3)
    for name in ("a", "b"):
        await login_throttle.record_failure(ctx.redis, ctx.keys, settings, username=name, ip="203.0.113.20")
    await login_throttle.clear_user(ctx.redis, ctx.keys, username="b")
    third = await login_throttle.record_failure(ctx.redis, ctx.keys, settings, username="c", ip="203.0.113.20")
    assert [lock.scope for lock in third.locks] == ["ip"]
    lock = await login_throttle.current_lock(ctx.redis, ctx.keys, username="anyone", ip="203.0.113.20")
    assert lock is not None and lock.scope == "ip"


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("DESK_LOGIN_IP_MAX_FAILURES", "40")
    monkeypatch.setenv("DESK_LOGIN_FAILURE_WINDOW_S", "600")
    monkeypatch.setenv("DESK_LOGIN_LOCK_S", "1800")
    s = Settings.from_env()
    assert (s.login_max_failures, s.login_ip_max_failures, s.login_failure_window_s, s.login_lock_s) == \
        (7, 40, 600, 1800)
    monkeypatch.setenv("DESK_LOGIN_LOCK_S", "0")
    with pytest.raises(SettingsError, match="DESK_LOGIN_LOCK_S"):
        Settings.from_env()
