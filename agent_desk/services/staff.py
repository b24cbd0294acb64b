"""Staff accounts as managers handle them: disabling one ends all of its sessions at once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..context import DeskContext
from ..models import Role, User
from . import audit, login_throttle, staff_sockets
from .cases import announce_opened, requeue_cases_of

LAST_MANAGER = "不能停用最后一个可用的管理员账号"


class StaffError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def lock_active_managers(session: AsyncSession) -> set[int]:
    """The ids of the active managers, locked for the rest of the transaction, so that two
    disables at the same moment cannot each see the other as the manager who remains.

    PostgreSQL: the rows are locked (``FOR UPDATE``); a second disable waits here for the
    first to commit and then reads the rows as that commit left them. SQLite has no row locks
    and starts a transaction only at the first write, so a no-op write is made first: it takes
    the database's single write lock, and whatever is read after it is current.
    """
    managers = (User.role == Role.manager, User.active.is_(True))
    if (await session.connection()).dialect.name == "sqlite":
        await session.execute(update(User).where(*managers).values(active=True))
    return set((await session.execute(select(User.id).where(*managers).with_for_update())).scalars())


def staff_view(user: User, *, locked_s: int = 0) -> dict[str, Any]:
    """One account as managers see it; ``locked_s`` is the time left on its login lock."""
    until = (datetime.now(UTC) + timedelta(seconds=locked_s)).isoformat(timespec="seconds") if locked_s else None
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role.value, "active": user.active,
            "locked": locked_s > 0, "locked_until": until, "locked_seconds": locked_s}


async def staff_views(ctx: DeskContext, users: list[User]) -> list[dict[str, Any]]:
    """``staff_view`` of each account with its login lock read from Redis (the login's own keys)."""
    locks = await login_throttle.user_locks(ctx.redis, ctx.keys, [u.username for u in users])
    return [staff_view(u, locked_s=locks.get(u.username, 0)) for u in users]


async def set_active(ctx: DeskContext, *, manager: User, user_id: int, active: bool,
                     ip: str) -> tuple[User, list[str], bool]:
    """Disable or enable an account; returns it, the tracking numbers of the cases that a
    disable took from it and put back in the queue, and whether an enable lifted a login lock.

    Enabling also lifts the account's login lock (as ``unlock`` does), so 停用 + 启用 lets it
    log in at once.

    A disable that would leave no active manager is refused (409), also when two managers
    disable each other at the same moment (``lock_active_managers``); so is disabling oneself.

    Disabling also ends every session of the account (its tokens stay void if it is enabled
    again) and closes its live workspace sockets, after the commit; its open cases go back to
    the queue at their original places and each citizen is told someone else will continue.
    These steps run again when the account is already disabled, so repeating a disable that
    failed half-way finishes it.
    """
    async with ctx.sessions() as session:
        # A disable locks the active managers first, before the account itself is read.
        managers = set() if active else await lock_active_managers(session)
        user = await session.get(User, user_id)
        if user is None:
            raise StaffError("账号不存在", 404)
        if user.id == manager.id and not active:
            raise StaffError("不能停用自己的账号", 409)
        if not active and not managers - {user.id}:
            raise StaffError(LAST_MANAGER, 409)
        if not active and manager.id not in managers:
            # Disabled by a colleague after this request was authenticated.
            raise StaffError("您的账号已停用", 403)
        user.active = active
        requeued = [] if active else await requeue_cases_of(session, agent=user, actor=manager,
                                                             reason="agent_disabled", ip=ip)
        numbers = [case.tracking_no for case, _ in requeued]
        # Lifted before the commit that audits it; a failed commit leaves the account unlocked
        # but still disabled, and a retried enable records it.
        was_locked = active and await login_throttle.unlock_user(ctx.redis, ctx.keys, username=user.username)
        await audit.record(session, actor_id=manager.id, actor_role=manager.role.value,
                           action="staff.enable" if active else "staff.disable", target_type="user",
                           target_id=user.username,
                           detail={"was_locked": was_locked} if active else {"requeued_cases": numbers}, ip=ip)
        await session.commit()
    if not active:
        await ctx.extras["signer"].revoke_all(ctx.redis, ctx.keys, user.id)
        await staff_sockets.disconnect(ctx, user_id=user.id)
        for case, citizen in requeued:
            await announce_opened(ctx, case=case, citizen=citizen, requeued=True)
    return user, numbers, was_locked


async def unlock(ctx: DeskContext, *, manager: User, user_id: int, ip: str) -> tuple[User, bool]:
    """解锁: lift the account's login lock (too many wrong passwords) and forget its counted
    failures; returns the account and whether it was locked. Audited ``staff.unlock`` either way."""
    async with ctx.sessions() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise StaffError("账号不存在", 404)
        was_locked = await login_throttle.unlock_user(ctx.redis, ctx.keys, username=user.username)
        await audit.record(session, actor_id=manager.id, actor_role=manager.role.value, action="staff.unlock",
                           target_type="user", target_id=user.username, detail={"was_locked": was_locked}, ip=ip)
        await session.commit()
    return user, was_locked
