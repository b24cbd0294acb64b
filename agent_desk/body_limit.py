"""ASGI guard: request bodies over the desk's limit are refused before they are read.

Under uvicorn, Sanic reads a whole request body before its own REQUEST_MAX_SIZE check
answers 413, so three 400 MB uploads to the login route took the desk to 2.7 GB without
any login. This wrapper answers 413 from the Content-Length alone, and stops a streamed
(chunked) body as soon as it passes the limit. A Content-Length that is not a number is a
malformed request (400).
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOO_LARGE = "请求内容过大。"
MALFORMED = "请求格式不正确。"


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _answer(send, 400, MALFORMED)
                return
            if int(declared) > self.max_bytes:
                await _answer(send, 413, TOO_LARGE)
                return

        received = 0
        answered = False

        async def counted_receive() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and tell the app the client left: raising here would reach
                    # Sanic's handler as an unexpected error (500).
                    answered = True
                    await _answer(send, 413, TOO_LARGE)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:  # after our 413, whatever the app still says goes nowhere
                await send(message)

        await self.app(scope, counted_receive, guarded_send)
