"""Helpers shared by the HTTP views: who is calling, JSON bodies, client address."""
from __future__ import annotations

from typing import Any

from sanic import HTTPResponse, Request
from sanic.exceptions import BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized

from channels.base import MAX_DB_INT, client_int, safe_text

from ..context import DeskContext
from ..models import User
from ..settings import Settings

SESSION_COOKIE = "desk_session"
MAX_JSON_BYTES = 256 * 1024  # API bodies are small; uploads have their own route and limit
MAX_ID = MAX_DB_INT


def desk(request: Request) -> DeskContext:
    ctx: DeskContext = request.app.ctx.desk
    return ctx


def client_ip(request: Request) -> str:
    return request.remote_addr or request.ip or ""


def parse_id(value: object, what: str = "编号") -> int:
    """A database id from a URL or body; anything else is a clean 404, never a 500."""
    number = client_int(value)
    if not number:
        raise NotFound(f"{what}不存在")
    return number


def parse_count(value: object, what: str) -> int:
    """A non-negative integer parameter (e.g. ``after``, ``up_to``); 400 when it is not one."""
    number = client_int(value)
    if number is None:
        raise BadRequest(f"{what} 应为不大于 {MAX_ID} 的非负整数")
    return number


# Close notes and rectification notes; the staff pages' text boxes stop at the same length.
NOTE_MAX_CHARS = 2000


def str_field(body: dict[str, Any], name: str, *, default: str = "", max_len: int | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"{name} 应为字符串")
    text = safe_text(value)
    # Refused, not cut: a note that silently loses its end is a record nobody can trust.
    if max_len is not None and len(text) > max_len:
        raise BadRequest(f"{name} 不能超过 {max_len} 个字（当前 {len(text)} 个字），请精简后再提交")
    return text


def bool_field(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{name} 应为 true 或 false")
    return value


def json_body(request: Request) -> dict[str, Any]:
    if len(request.body or b"") > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"请求体过大（最多 {MAX_JSON_BYTES // 1024} KB）")
    try:
        data = request.json
    except Exception as exc:  # Sanic raises its own error on malformed JSON
        raise BadRequest("请求体不是有效的 JSON") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return data


def set_session_cookie(resp: HTTPResponse, token: str, settings: Settings) -> None:
    # HttpOnly: page scripts never read it (they keep their own copy of the token);
    # SameSite=Strict: other sites cannot make a browser send it; Secure over https, so a
    # plain-http request to the same host (a typo, a downgrade) never carries it.
    resp.add_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=settings.cookie_secure,
                    max_age=settings.session_ttl_s, path="/")


def clear_session_cookie(resp: HTTPResponse, settings: Settings) -> None:
    # The same attributes as when it was set: Sanic's delete_cookie always adds Secure, which a
    # browser ignores when it comes over plain http, leaving the cookie in place.
    resp.add_cookie(SESSION_COOKIE, "", httponly=True, samesite="Strict", secure=settings.cookie_secure,
                    max_age=0, path="/")


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
