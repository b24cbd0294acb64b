"""Staff accounts as managers handle them: disabling one ends all of its sessions at once."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..context import DeskContext
from ..models import Case, CaseStatus, User
from . import audit, staff_sockets


class StaffError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def staff_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role.value, "active": user.active}


async def set_active(ctx: DeskContext, *, manager: User, user_id: int, active: bool,
                     ip: str) -> tuple[User, int]:
    """Disable or enable an account; returns it and how many cases it still holds (assigned).

    Disabling also ends every session of the account (its tokens stay void if it is enabled
    again) and closes its live workspace sockets, after the commit. Both steps run again when
    the account is already disabled, so repeating a disable that failed half-way finishes it.
    """
    async with ctx.sessions() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise StaffError("账号不存在", 404)
        if user.id == manager.id and not active:
            raise StaffError("不能停用自己的账号", 409)
        user.active = active
        # The disabled agent's open cases stay assigned to them; the manager closes them
        # (处理中) — the count tells them there are some.
        held = await session.scalar(select(func.count()).select_from(Case).where(
            Case.agent_id == user.id, Case.status == CaseStatus.assigned)) or 0
        await audit.record(session, actor_id=manager.id, actor_role=manager.role.value,
                           action="staff.enable" if active else "staff.disable", target_type="user",
                           target_id=user.username, detail={"assigned_cases": held}, ip=ip)
        await session.commit()
    if not active:
        await ctx.extras["signer"].revoke_all(ctx.redis, ctx.keys, user.id)
        await staff_sockets.disconnect(ctx, user_id=user.id)
    return user, held
