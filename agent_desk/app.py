"""The desk service: ``create_app()`` builds the Sanic app and its socket.io server."""
from __future__ import annotations

import functools
import json as jsonlib
import logging

import httpx
import socketio
from redis.asyncio import Redis
from sanic import Request, Sanic, json
from sanic.exceptions import SanicException

from channels import miniprogram
from channels import web as web_channel

from . import queue, realtime, security_headers
from .body_limit import BodyLimit
from .bot_client import BotClient
from .context import DeskContext
from .db import make_engine, make_sessionmaker
from .errors import error_response, unexpected_error
from .logging_setup import configure_logging
from .openapi import OPENAPI
from .redis_keys import RedisKeys
from .routes import audit, auth, cases, health, internal, pages, ratings, reports, staff, uploads
from .services.auth import TokenSigner
from .services.delivery import register_channel
from .settings import Settings

log = logging.getLogger("desk.app")


def create_app(settings: Settings | None = None, *, name: str = "desk") -> Sanic:
    settings = settings or Settings.from_env()
    configure_logging()
    # Chinese stays readable in API responses (no \uXXXX escapes).
    app = Sanic(name, dumps=functools.partial(jsonlib.dumps, ensure_ascii=False, separators=(",", ":")))
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = 10 * 1024 * 1024
    keys = RedisKeys(settings.redis_prefix)
    origins = realtime.origin_check(list(settings.allowed_origins)) if settings.allowed_origins else None
    sio = realtime.make_sio(redis_url=settings.redis_url, channel=keys.socketio_channel,
                            origins=origins)  # type: ignore[arg-type]
    app.ctx.settings = settings
    if not settings.is_dev and not settings.cookie_secure:
        log.warning("staff session cookie is not Secure: set DESK_PUBLIC_URL=https://... (or DESK_COOKIE_SECURE=on) "
                    "when the desk is served over https")
    app.ctx.sio = sio

    for bp in (health.bp, auth.bp, cases.bp, reports.bp, internal.bp, pages.bp, uploads.bp, ratings.bp,
               staff.bp, audit.bp):
        app.blueprint(bp)
    web_channel.register(app, sio)
    realtime.register(app, sio)
    register_channel("web", web_channel.send_to_citizen)
    miniprogram.register(app)
    register_channel("miniprogram", miniprogram.send_to_citizen)

    @app.get("/api/openapi.json")
    async def openapi(request: Request):  # type: ignore[no-untyped-def]
        return json(OPENAPI)

    app.exception(SanicException)(error_response)
    app.exception(Exception)(unexpected_error)  # anything else: polite 500, traceback to the log
    app.on_request(auth.refuse_ended_sessions)
    app.on_response(security_headers.make_middleware(settings.allowed_origins))

    @app.before_server_start
    async def open_clients(app: Sanic) -> None:
        app.ctx.desk = await open_context(settings, sio=sio, keys=keys)

    @app.after_server_stop
    async def close_clients(app: Sanic) -> None:
        await close_context(app.ctx.desk)

    return app


async def open_context(settings: Settings, *, sio: socketio.AsyncServer, keys: RedisKeys) -> DeskContext:
    """Open the database, Redis and HTTP clients one worker needs; rebuild the queue view."""
    engine = make_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    http = httpx.AsyncClient(timeout=10)
    ctx = DeskContext(settings=settings, engine=engine, sessions=make_sessionmaker(engine), redis=redis,
                      keys=keys, sio=sio, http=http, extras={})
    ctx.extras["bot"] = BotClient(http, base_url=settings.bot_url, token=settings.bot_api_token,
                                  timeout_s=settings.bot_timeout_s)
    ctx.extras["signer"] = TokenSigner(settings.secret_key, settings.session_ttl_s)
    async with ctx.sessions() as session:
        waiting = await queue.rebuild(redis, keys, session)
    log.info("desk ready", extra={"queued_cases": waiting, "db": settings.database_url.split("@")[-1]})
    return ctx


async def close_context(ctx: DeskContext) -> None:
    await ctx.http.aclose()
    await ctx.redis.aclose()
    await ctx.engine.dispose()


def create_asgi(settings: Settings | None = None) -> BodyLimit:
    """socket.io at /socket.io/, everything else (and lifespan) handled by Sanic; request
    bodies over REQUEST_MAX_SIZE refused before they are read (agent_desk/body_limit.py)."""
    app = create_app(settings)
    routed = socketio.ASGIApp(app.ctx.sio, other_asgi_app=app, socketio_path="socket.io")
    return BodyLimit(routed, app.config.REQUEST_MAX_SIZE)
