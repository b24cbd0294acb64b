"""Staff login and logout; refusing sessions that were ended."""
from __future__ import annotations

import math

from sanic import Blueprint, HTTPResponse, Request, json
from sanic.exceptions import BadRequest, Unauthorized

from ..services import audit, login_throttle, staff_sockets
from ..services.auth import authenticate
from ..services.login_throttle import Lockout
from .common import (
    bearer_token,
    bool_field,
    clear_session_cookie,
    client_ip,
    current_user,
    desk,
    json_body,
    set_session_cookie,
    str_field,
)

bp = Blueprint("auth", url_prefix="/api/auth")


def user_view(user) -> dict:  # type: ignore[no-untyped-def]
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role.value}


def _locked_response(lock: Lockout) -> HTTPResponse:
    minutes = max(1, math.ceil(lock.retry_after_s / 60))
    if lock.scope == "user":
        text = (f"登录失败次数过多，为保护账号安全，该账号已暂停登录。请 {minutes} 分钟后再试；"
                "也可请管理人员解锁。")
    else:
        text = f"此网络登录失败次数过多，已暂停登录。请 {minutes} 分钟后再试；如有疑问，请联系管理人员。"
    return json({"error": text, "retry_after": lock.retry_after_s}, status=429,
                headers={"Retry-After": str(lock.retry_after_s)})


@bp.post("/login")
async def login(request: Request):  # type: ignore[no-untyped-def]
    body = json_body(request)
    username, password = str_field(body, "username").strip()[:64], str_field(body, "password")
    if not username or not password:
        raise BadRequest("请输入用户名和密码")
    ctx = desk(request)
    ip = client_ip(request)
    # A locked username or address is refused before the password is even checked.
    lock = await login_throttle.current_lock(ctx.redis, ctx.keys, username=username, ip=ip)
    if lock is not None:
        return _locked_response(lock)
    async with ctx.sessions() as session:
        user, why = await authenticate(session, username=username, password=password[:256])
        failure = None
        if user is None:
            failure = await login_throttle.record_failure(ctx.redis, ctx.keys, ctx.settings, username=username, ip=ip)
        await audit.record(session, actor_id=user.id if user else None, actor_role=user.role.value if user else "",
                           action="auth.login" if user else "auth.login_failed", target_type="user",
                           target_id=username, detail={"reason": why} if why else None, ip=ip)
        for started in failure.locks if failure else []:
            await audit.record(session, actor_id=None, actor_role="", action="auth.login_locked",
                               target_type="user" if started.scope == "user" else "ip",
                               target_id=username if started.scope == "user" else ip,
                               detail={"failures": started.failures, "lock_s": started.retry_after_s,
                                       "username": username}, ip=ip)
        await session.commit()
    if failure is not None:
        if failure.locks:
            return _locked_response(max(failure.locks, key=lambda lock: lock.retry_after_s))
        hint = f"（再错 {failure.user_failures_left} 次将暂停登录）" if failure.user_failures_left <= 2 else ""
        raise Unauthorized("用户名或密码错误" + hint)
    assert user is not None
    await login_throttle.clear_user(ctx.redis, ctx.keys, username=username)
    token = ctx.extras["signer"].issue(user)
    resp = json({"token": token, "user": user_view(user)})
    set_session_cookie(resp, token, ctx.settings)
    return resp


@bp.post("/logout")
async def logout(request: Request):  # type: ignore[no-untyped-def]
    """End this session (``{"everywhere": true}``: every session of this user)."""
    user = await current_user(request)
    everywhere = bool_field(json_body(request), "everywhere")
    ctx = desk(request)
    signer = ctx.extras["signer"]
    if everywhere:
        await signer.revoke_all(ctx.redis, ctx.keys, user.id)
        await staff_sockets.disconnect(ctx, user_id=user.id)
    else:
        claims = signer.verify(bearer_token(request) or "")
        if claims is not None:  # current_user accepted this very token
            await signer.revoke(ctx.redis, ctx.keys, claims)
            await staff_sockets.disconnect(ctx, user_id=user.id, jti=claims["jti"])
    async with ctx.sessions() as session:
        await audit.record(session, actor_id=user.id, actor_role=user.role.value, action="auth.logout",
                           target_type="user", target_id=user.username, detail={"everywhere": everywhere},
                           ip=client_ip(request))
        await session.commit()
    resp = json({"ok": True})
    clear_session_cookie(resp, ctx.settings)
    return resp


@bp.get("/me")
async def me(request: Request):  # type: ignore[no-untyped-def]
    return json({"user": user_view(await current_user(request))})


async def refuse_ended_sessions(request: Request) -> HTTPResponse | None:
    """Request middleware: an API call carrying a staff token whose session was ended (logout)
    is answered 401 here, before any view sees the still-valid signature."""
    if not request.path.startswith("/api/"):
        return None
    token = bearer_token(request)
    if not token:
        return None
    ctx = desk(request)
    signer = ctx.extras["signer"]
    claims = signer.verify(token)
    if claims is None or not await signer.is_revoked(ctx.redis, ctx.keys, claims):
        return None  # not a staff token, or a live one: the view decides
    resp = json({"error": "登录已退出或已失效，请重新登录"}, status=401)
    clear_session_cookie(resp, ctx.settings)
    return resp
