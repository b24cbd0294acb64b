"""The desk never disables its last active manager: not one by one, and not when two managers
disable each other at the same moment. Real PostgreSQL and Redis, in process; the same race
on a SQLite file (the embedded default), whose single writer serialises the two disables."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agent_desk.models import AuditEntry, Role, User
from agent_desk.services.auth import create_user
from agent_desk.services.staff import StaffError, set_active

ROOT = Path(__file__).resolve().parents[2]


async def _manager(ctx) -> User:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        user = await create_user(session, username=f"mgr-{uuid.uuid4().hex[:6]}", display_name="值班主管",
                                 role=Role.manager, password="manager-password-123")
        await session.commit()
        return user


async def _active_managers(ctx) -> set[int]:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        return set((await session.execute(select(User.id).where(User.role == Role.manager,
                                                                User.active.is_(True)))).scalars())


async def _only_these_managers(ctx, keep: set[int]) -> set[int]:  # type: ignore[no-untyped-def]
    """Disable every other active manager (the shared test database has the demo one);
    returns them, to be enabled again afterwards."""
    others = await _active_managers(ctx) - keep
    async with ctx.sessions() as session:
        await session.execute(update(User).where(User.id.in_(others)).values(active=False))
        await session.commit()
    return others


async def _restore(ctx, ids: set[int]) -> None:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        await session.execute(update(User).where(User.id.in_(ids)).values(active=True))
        await session.commit()


async def _disable_each_other(ctx) -> None:  # type: ignore[no-untyped-def]
    a, b = await _manager(ctx), await _manager(ctx)
    others = await _only_these_managers(ctx, {a.id, b.id})
    try:
        results = await asyncio.gather(
            set_active(ctx, manager=a, user_id=b.id, active=False, ip="10.0.0.1"),
            set_active(ctx, manager=b, user_id=a.id, active=False, ip="10.0.0.2"),
            return_exceptions=True)
        done = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(done) == 1 and len(refused) == 1, results
        # The one that waited finds its own account disabled, or (had it gone first) the other
        # would have been the last manager: refused either way, and one manager is left.
        assert isinstance(refused[0], StaffError) and refused[0].code in (403, 409), refused[0]
        assert len(await _active_managers(ctx) & {a.id, b.id}) == 1
        async with ctx.sessions() as session:
            entries = (await session.execute(select(AuditEntry).where(
                AuditEntry.action == "staff.disable", AuditEntry.target_id.in_([a.username, b.username])))).all()
        assert len(entries) == 1
    finally:
        await _restore(ctx, others | {a.id, b.id})


async def test_two_managers_disabling_each_other_leave_one(desk_ctx) -> None:  # type: ignore[no-untyped-def]
    await _disable_each_other(desk_ctx)


async def test_the_last_manager_cannot_be_disabled(desk_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = desk_ctx
    a, b = await _manager(ctx), await _manager(ctx)
    others = await _only_these_managers(ctx, {a.id, b.id})
    try:
        with pytest.raises(StaffError) as self_disable:  # still refused, as before
            await set_active(ctx, manager=a, user_id=a.id, active=False, ip="")
        assert (str(self_disable.value), self_disable.value.code) == ("不能停用自己的账号", 409)
        await set_active(ctx, manager=a, user_id=b.id, active=False, ip="")
        # b's request, authenticated before a's disable committed: a is the last active manager.
        with pytest.raises(StaffError) as last:
            await set_active(ctx, manager=b, user_id=a.id, active=False, ip="")
        assert (str(last.value), last.value.code) == ("不能停用最后一个可用的管理员账号", 409)
        # Disabling b again is fine (it is not active), and so is disabling an agent.
        await set_active(ctx, manager=a, user_id=b.id, active=False, ip="")
        async with ctx.sessions() as session:
            agent = await create_user(session, username=f"agt-{uuid.uuid4().hex[:6]}", display_name="坐席",
                                      role=Role.agent, password="agent-password-123")
            await session.commit()
        await set_active(ctx, manager=a, user_id=agent.id, active=False, ip="")
        # With a third manager, b (disabled) acting late is refused as disabled.
        c = await _manager(ctx)
        others.add(c.id)
        with pytest.raises(StaffError) as stale:
            await set_active(ctx, manager=b, user_id=a.id, active=False, ip="")
        assert (str(stale.value), stale.value.code) == ("您的账号已停用", 403)
        assert await _active_managers(ctx) & {a.id, b.id, c.id} == {a.id, c.id}
    finally:
        await _restore(ctx, others | {a.id, b.id})


@pytest.fixture
async def sqlite_ctx(tmp_path: Path, redis_url: str, service_token: str) -> AsyncIterator[object]:
    import os
    import subprocess
    import sys

    from agent_desk.app import close_context, open_context
    from agent_desk.realtime import make_sio
    from agent_desk.redis_keys import RedisKeys
    from agent_desk.settings import Settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
    subprocess.run([sys.executable, "-m", "agent_desk.cli", "migrate"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url})
    prefix = f"desk-unit-{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(prefix)
    ctx = await open_context(Settings(env="test", database_url=url, redis_url=redis_url, redis_prefix=prefix,
                                      service_token=service_token),
                             sio=make_sio(redis_url=redis_url, channel=keys.socketio_channel, origins=None), keys=keys)
    yield ctx
    async for key in ctx.redis.scan_iter(f"{prefix}:*"):
        await ctx.redis.delete(key)
    await close_context(ctx)


async def test_the_race_on_sqlite_leaves_one_manager(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    await _disable_each_other(sqlite_ctx)
