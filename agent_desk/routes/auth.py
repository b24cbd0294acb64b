"""Staff login and logout."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest, Unauthorized

from ..services import audit
from ..services.auth import authenticate
from .common import SESSION_COOKIE, client_ip, current_user, desk, json_body, str_field

bp = Blueprint("auth", url_prefix="/api/auth")


def user_view(user) -> dict:  # type: ignore[no-untyped-def]
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role.value}


@bp.post("/login")
async def login(request: Request):  # type: ignore[no-untyped-def]
    body = json_body(request)
    username, password = str_field(body, "username").strip(), str_field(body, "password")
    if not username or not password:
        raise BadRequest("请输入用户名和密码")
    ctx = desk(request)
    async with ctx.sessions() as session:
        user = await authenticate(session, username=username[:64], password=password[:256])
        await audit.record(session, actor_id=user.id if user else None, actor_role=user.role.value if user else "",
                           action="auth.login" if user else "auth.login_failed", target_type="user",
                           target_id=username[:64], ip=client_ip(request))
        await session.commit()
    if user is None:
        raise Unauthorized("用户名或密码错误")
    token = ctx.extras["signer"].issue(user)
    resp = json({"token": token, "user": user_view(user)})
    resp.add_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=False,
                    max_age=ctx.settings.session_ttl_s, path="/")
    return resp


@bp.post("/logout")
async def logout(request: Request):  # type: ignore[no-untyped-def]
    user = await current_user(request)
    ctx = desk(request)
    async with ctx.sessions() as session:
        await audit.record(session, actor_id=user.id, actor_role=user.role.value, action="auth.logout",
                           target_type="user", target_id=user.username, ip=client_ip(request))
        await session.commit()
    resp = json({"ok": True})
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@bp.get("/me")
async def me(request: Request):  # type: ignore[no-untyped-def]
    return json({"user": user_view(await current_user(request))})
