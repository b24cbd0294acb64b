"""``SlowRasa`` speaks Rasa's REST channel (POST /webhooks/rest/webhook) and answers after a
configurable delay. It exists only to make a bot turn take longer than WeChat's 5-second push
timeout, which the real Rasa cannot be made to do on demand; everything else is tested
against the real bot."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.threaded_server import ThreadedServer


@dataclass
class SlowRasa(ThreadedServer):
    """Rasa's REST webhook shape; answers after ``delay_s`` with ``reply(message)``."""

    delay_s: float = 6.0
    reply: Callable[[str], list[dict[str, Any]]] = lambda text: [{"text": f"您咨询的是：{text}"}]
    received: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        ThreadedServer.__init__(self)

    def messages(self) -> list[str]:
        with self._lock:
            return [str(r.get("message", "")) for r in self.received]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/status", self._status)

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": "slow-double"})

    async def _webhook(self, request: web.Request) -> web.Response:
        data = await request.json()
        with self._lock:
            self.received.append(data)
        await asyncio.sleep(self.delay_s)
        return web.json_response(self.reply(str(data.get("message", ""))))
