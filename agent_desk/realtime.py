"""Live updates for staff browsers: the /agent socket.io namespace.

Emits go through socket.io's Redis client manager, so any worker can reach any browser;
services publish only after their transaction commits.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import socketio
from sanic import Sanic
from sqlalchemy import select

from .context import DeskContext
from .models import User
from .routes.common import SESSION_COOKIE
from .services import staff_sockets
from .services.delivery import AGENT_NS, AGENTS_ROOM, agent_room


def origin_check(extra: tuple[str, ...] | list[str]):  # type: ignore[no-untyped-def]
    """engine.io origin check: the desk's own origin (as the browser reached it) and ``extra``.

    A plain list would replace engine.io's same-origin default, so setting DESK_ALLOWED_ORIGINS
    to a site that embeds a Rasa widget would lock out the desk's own /widget and /agent pages.
    """
    allowed = {o.rstrip("/") for o in extra}

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True  # not a browser cross-origin request (engine.io does the same)
        host = environ.get("HTTP_HOST")
        own = {f"{environ.get('wsgi.url_scheme', 'http')}://{host}"} if host else set()
        if host and "HTTP_X_FORWARDED_PROTO" in environ:
            own.add(f"{environ['HTTP_X_FORWARDED_PROTO'].split(',')[0].strip()}://{host}")
        return origin.rstrip("/") in allowed | own

    return check


def make_sio(*, redis_url: str, channel: str, origins: tuple[str, ...] | list[str] | str) -> socketio.AsyncServer:
    manager = socketio.AsyncRedisManager(redis_url, channel=channel)
    # Handler exceptions are logged through our structured logger instead of vanishing.
    sio_log = logging.getLogger("desk.socketio")
    sio_log.setLevel(logging.WARNING)
    return socketio.AsyncServer(async_mode="asgi", client_manager=manager, cors_allowed_origins=origins,
                                max_http_buffer_size=1_000_000, ping_interval=20, ping_timeout=20,
                                logger=sio_log, engineio_logger=False)


def _token_from(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    cookie = environ.get("HTTP_COOKIE", "")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    return (qs.get("token") or [None])[0]


async def _account_active(ctx: DeskContext, user_id: int) -> bool:
    async with ctx.sessions() as session:
        return bool(await session.scalar(select(User.active).where(User.id == user_id)))


def register(app: Sanic, sio: socketio.AsyncServer) -> None:
    @sio.on("connect", namespace=AGENT_NS)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        token = _token_from(environ, auth)
        ctx: DeskContext = app.ctx.desk
        signer = ctx.extras["signer"]
        data = await signer.check(ctx.redis, ctx.keys, token) if token else None  # not logged out
        if not data or not await _account_active(ctx, int(data["uid"])):
            raise socketio.exceptions.ConnectionRefusedError("请先登录")
        uid = int(data["uid"])
        await staff_sockets.remember(ctx, user_id=uid, sid=sid, jti=data["jti"])
        await sio.save_session(sid, {"uid": uid, "role": data["role"]}, namespace=AGENT_NS)
        await sio.enter_room(sid, AGENTS_ROOM, namespace=AGENT_NS)
        await sio.enter_room(sid, agent_room(uid), namespace=AGENT_NS)
        if data["role"] == "manager":
            await sio.enter_room(sid, "managers", namespace=AGENT_NS)
        # A logout since the check above may have found this socket not yet connected, and
        # socket.io ignores a disconnect then; so check again, last (a refusal leaves the rooms).
        if await signer.is_revoked(ctx.redis, ctx.keys, data):
            await staff_sockets.forget(ctx, user_id=uid, sid=sid)
            raise socketio.exceptions.ConnectionRefusedError("请先登录")
        staff_sockets.close_at_expiry(ctx, sid=sid, claims=data)
        return True

    @sio.on("disconnect", namespace=AGENT_NS)
    async def disconnect(sid: str, *reason: Any) -> None:
        try:
            session = await sio.get_session(sid, namespace=AGENT_NS)
        except KeyError:
            return
        await staff_sockets.forget(app.ctx.desk, user_id=int(session["uid"]), sid=sid)
