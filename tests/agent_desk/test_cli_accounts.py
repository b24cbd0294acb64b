"""The operator commands for staff accounts, run as the operator runs them (a subprocess) on the
real PostgreSQL and Redis: create-user refuses bad or taken names with one line and status 1;
enable-user lets a disabled, locked-out account log in again and is audited as a system action."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update

from agent_desk.models import AuditEntry, User
from agent_desk.redis_keys import RedisKeys
from agent_desk.services import login_throttle
from agent_desk.settings import Settings
from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def cli(pg_url: str, *args: str, stdin: str = "", redis_url: str = "", prefix: str = "desk-cli-test"
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": pg_url, "DESK_ENV": "test", "DESK_REDIS_PREFIX": prefix,
           "REDIS_URL": redis_url or services.TEST_REDIS_URL}
    # A new session has no terminal, so getpass reads the password from stdin.
    return subprocess.run([sys.executable, "-m", "agent_desk.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60, start_new_session=True)


def refused(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def _user(pg_url: str, username: str) -> User | None:
    async def load() -> User | None:
        from agent_desk.db import make_engine, make_sessionmaker

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
        await engine.dispose()
        return user

    return asyncio.run(load())


def test_create_user_refuses_a_taken_username_in_one_line(pg_url: str) -> None:
    name = f"clerk.{uuid.uuid4().hex[:6]}"
    made = cli(pg_url, "create-user", name, "  窗口一号 ", "agent", stdin="clerk-password-123\n")
    assert made.returncode == 0, made.stderr
    user = _user(pg_url, name)
    assert user is not None and user.display_name == "窗口一号"
    refused(cli(pg_url, "create-user", name, "另一个", "manager", stdin="clerk-password-123\n"), "already exists")
    refused(cli(pg_url, "create-user", name.upper(), "另一个", "agent", stdin="clerk-password-123\n"),
            "already exists")


@pytest.mark.parametrize("username", ["", "ab", "a b", "x" * 33, "王晓明", "agent;drop", "tab\tname"])
def test_create_user_refuses_a_bad_username(pg_url: str, username: str) -> None:
    refused(cli(pg_url, "create-user", username, "窗口坐席", "agent", stdin="clerk-password-123\n"),
            "must be 3-32 characters")
    assert _user(pg_url, username) is None


@pytest.mark.parametrize("display_name", ["", "   ", "名" * 33, "a\nb"])
def test_create_user_refuses_a_bad_display_name(pg_url: str, display_name: str) -> None:
    username = f"clerk-{uuid.uuid4().hex[:6]}"
    refused(cli(pg_url, "create-user", username, display_name, "agent", stdin="clerk-password-123\n"),
            "display name must be 1-32")
    assert _user(pg_url, username) is None


def test_create_user_refuses_a_short_password(pg_url: str) -> None:
    username = f"clerk-{uuid.uuid4().hex[:6]}"
    refused(cli(pg_url, "create-user", username, "窗口坐席", "agent", stdin="short\n"), "at least 10")
    assert _user(pg_url, username) is None


def test_enable_user_recovers_a_disabled_locked_manager(pg_url: str, redis_url: str) -> None:
    username = f"boss-{uuid.uuid4().hex[:6]}"
    assert cli(pg_url, "create-user", username, "主任", "manager", stdin="boss-password-123\n").returncode == 0
    prefix = f"desk-cli-{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(prefix)

    async def disable_and_lock() -> None:
        from agent_desk.db import make_engine, make_sessionmaker

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            await session.execute(update(User).where(User.username == username).values(active=False))
            await session.commit()
        await engine.dispose()
        redis = Redis.from_url(redis_url, decode_responses=True)
        settings = dataclasses.replace(Settings(env="test"), login_max_failures=1)
        await login_throttle.record_failure(redis, keys, settings, username=username, ip="198.51.100.9")
        assert await login_throttle.current_lock(redis, keys, username=username, ip="192.0.2.1") is not None
        await redis.aclose()

    async def lock_left() -> bool:
        redis = Redis.from_url(redis_url, decode_responses=True)
        lock = await login_throttle.current_lock(redis, keys, username=username, ip="192.0.2.1")
        await redis.aclose()
        return lock is not None

    asyncio.run(disable_and_lock())
    done = cli(pg_url, "enable-user", username, redis_url=redis_url, prefix=prefix)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"manager {username} enabled; its login lock was lifted"
    user = _user(pg_url, username)
    assert user is not None and user.active
    assert not asyncio.run(lock_left())

    # Again, with Redis out of reach: still enabled, and the output says the lock ends by itself.
    again = cli(pg_url, "enable-user", username, redis_url="redis://127.0.0.1:1/0", prefix=prefix)
    assert again.returncode == 0, again.stderr
    assert "already enabled" in again.stdout and "ends by itself" in again.stdout

    async def entries() -> list[AuditEntry]:
        from agent_desk.db import make_engine, make_sessionmaker

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(AuditEntry).where(
                AuditEntry.action == "staff.enable", AuditEntry.target_id == username)
                .order_by(AuditEntry.id))).scalars().all()
        await engine.dispose()
        return list(rows)

    found = asyncio.run(entries())
    assert [(e.actor_id, e.actor_role, e.detail) for e in found] == [
        (None, "system", {"was_locked": True, "was_active": False, "via": "cli"}),
        (None, "system", {"was_locked": None, "was_active": True, "via": "cli"})]


def test_enable_user_of_nobody_fails_in_one_line(pg_url: str) -> None:
    refused(cli(pg_url, "enable-user", f"nobody-{uuid.uuid4().hex[:6]}"), "no account named")
