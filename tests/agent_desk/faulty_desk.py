"""The real desk plus a few routes that fail on purpose, for tests/agent_desk/test_unexpected_errors.py.

Served as its own process (``uvicorn tests.agent_desk.faulty_desk:app``) so the failures go
through the same uvicorn, Sanic error handling and JSON log formatter as production.
"""
from __future__ import annotations

import socketio
from sanic import HTTPResponse, Request, json
from sqlalchemy import text

from agent_desk.app import create_app

# What a citizen might have typed: a name, a mobile number and a resident ID number.
PERSONAL = "王小明 13812345678 110101199003071234"

desk = create_app(name="desk-faulty")


@desk.get("/api/test/boom")
async def boom(request: Request) -> HTTPResponse:
    raise RuntimeError(f"处理市民消息失败：{PERSONAL}")


@desk.get("/api/test/bad-sql")
async def bad_sql(request: Request) -> HTTPResponse:
    """A real database error whose statement carries personal data as a parameter."""
    async with request.app.ctx.desk.sessions() as session:
        await session.execute(text("SELECT * FROM no_such_table WHERE note = :note"), {"note": PERSONAL})
    return json({"ok": True})


@desk.get("/api/test/middleware-boom")
async def after_middleware(request: Request) -> HTTPResponse:
    return json({"ok": True})  # never reached: the middleware below fails first


@desk.on_request
async def failing_middleware(request: Request) -> None:
    # Like the session check when Redis is unreachable: a middleware, not a view, raises.
    if request.path == "/api/test/middleware-boom":
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


app = socketio.ASGIApp(desk.ctx.sio, other_asgi_app=desk, socketio_path="socket.io")
