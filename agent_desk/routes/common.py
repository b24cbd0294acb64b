"""Helpers shared by the HTTP views: who is calling, JSON bodies, client address."""
from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.exceptions import BadRequest, Forbidden, Unauthorized

from ..context import DeskContext
from ..models import User

SESSION_COOKIE = "desk_session"


def desk(request: Request) -> DeskContext:
    ctx: DeskContext = request.app.ctx.desk
    return ctx


def client_ip(request: Request) -> str:
    return request.remote_addr or request.ip or ""


def json_body(request: Request) -> dict[str, Any]:
    try:
        data = request.json
    except Exception as exc:  # Sanic raises its own error on malformed JSON
        raise BadRequest("请求体不是有效的 JSON") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return data


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


async def current_user(request: Request, *roles: str) -> User:
    ctx = desk(request)
    token = bearer_token(request)
    data = ctx.extras["signer"].verify(token) if token else None
    if not data:
        raise Unauthorized("请先登录")
    async with ctx.sessions() as session:
        user = await session.get(User, int(data["uid"]))  # type: ignore[call-overload]
    if user is None or not user.active:
        raise Unauthorized("账号不可用，请重新登录")
    if roles and user.role.value not in roles:
        raise Forbidden("无权访问此功能")
    return user
