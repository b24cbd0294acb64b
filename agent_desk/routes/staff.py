"""Staff accounts for managers: the list, disabling (ends every session), enabling again and
lifting a login lock."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sqlalchemy import select

from ..models import User
from ..services.staff import StaffError, set_active, staff_views, unlock
from .common import client_ip, current_user, desk, parse_id

bp = Blueprint("staff", url_prefix="/api/staff")


@bp.get("/")
async def list_staff(request: Request):  # type: ignore[no-untyped-def]
    await current_user(request, "manager")
    async with desk(request).sessions() as session:
        users = (await session.execute(select(User).order_by(User.id))).scalars().all()
    return json({"staff": await staff_views(desk(request), list(users))})


async def _set_active(request: Request, user_id: str, *, active: bool):  # type: ignore[no-untyped-def]
    manager = await current_user(request, "manager")
    try:
        user, requeued, was_locked = await set_active(desk(request), manager=manager,
                                                      user_id=parse_id(user_id, "账号"), active=active,
                                                      ip=client_ip(request))
    except StaffError as exc:
        return json({"error": str(exc)}, status=exc.code)
    [view] = await staff_views(desk(request), [user])
    body: dict[str, object] = {"user": view, "requeued_cases": requeued}
    if active:
        body["was_locked"] = was_locked
    return json(body)


@bp.post("/<user_id>/disable")
async def disable(request: Request, user_id: str):  # type: ignore[no-untyped-def]
    """停用: the account can no longer log in; its sessions and live workspaces end now, and the
    cases it was serving go back to the queue (``requeued_cases``, their tracking numbers)."""
    return await _set_active(request, user_id, active=False)


@bp.post("/<user_id>/enable")
async def enable(request: Request, user_id: str):  # type: ignore[no-untyped-def]
    """启用 again: the account logs in anew (sessions ended by the disable stay ended); a login
    lock on it is lifted too (``was_locked``)."""
    return await _set_active(request, user_id, active=True)


@bp.post("/<user_id>/unlock")
async def unlock_login(request: Request, user_id: str):  # type: ignore[no-untyped-def]
    """解锁: lift the login lock that wrong passwords put on the account (``was_locked``)."""
    manager = await current_user(request, "manager")
    try:
        user, was_locked = await unlock(desk(request), manager=manager, user_id=parse_id(user_id, "账号"),
                                        ip=client_ip(request))
    except StaffError as exc:
        return json({"error": str(exc)}, status=exc.code)
    [view] = await staff_views(desk(request), [user])
    return json({"user": view, "was_locked": was_locked})
