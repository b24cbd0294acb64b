"""Staff accounts for managers: the list, disabling (ends every session) and enabling again."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sqlalchemy import select

from ..models import User
from ..services.staff import StaffError, set_active, staff_view
from .common import client_ip, current_user, desk, parse_id

bp = Blueprint("staff", url_prefix="/api/staff")


@bp.get("/")
async def list_staff(request: Request):  # type: ignore[no-untyped-def]
    await current_user(request, "manager")
    async with desk(request).sessions() as session:
        users = (await session.execute(select(User).order_by(User.id))).scalars().all()
    return json({"staff": [staff_view(u) for u in users]})


async def _set_active(request: Request, user_id: str, *, active: bool):  # type: ignore[no-untyped-def]
    manager = await current_user(request, "manager")
    try:
        user, requeued = await set_active(desk(request), manager=manager, user_id=parse_id(user_id, "账号"),
                                      active=active, ip=client_ip(request))
    except StaffError as exc:
        return json({"error": str(exc)}, status=exc.code)
    return json({"user": staff_view(user), "requeued_cases": requeued})


@bp.post("/<user_id>/disable")
async def disable(request: Request, user_id: str):  # type: ignore[no-untyped-def]
    """停用: the account can no longer log in; its sessions and live workspaces end now, and the
    cases it was serving go back to the queue (``requeued_cases``, their tracking numbers)."""
    return await _set_active(request, user_id, active=False)


@bp.post("/<user_id>/enable")
async def enable(request: Request, user_id: str):  # type: ignore[no-untyped-def]
    """启用 again: the account logs in anew (sessions ended by the disable stay ended)."""
    return await _set_active(request, user_id, active=True)
