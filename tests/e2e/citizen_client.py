"""A citizen's socket.io client speaking Rasa's socketio protocol, as a widget would."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import socketio


class Citizen:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session_id = uuid.uuid4().hex
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.confirmed: asyncio.Future[str] | None = None

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.confirmed = loop.create_future()

        @self.sio.on("bot_uttered")
        async def on_bot(data: dict[str, Any]) -> None:
            self.received.append(data)
            self._changed.set()

        @self.sio.on("session_confirm")
        async def on_confirm(data: Any) -> None:
            if self.confirmed and not self.confirmed.done():
                self.confirmed.set_result(data)

        await self.sio.connect(self.url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": self.session_id})
        assert await asyncio.wait_for(self.confirmed, 10) == self.session_id

    async def say(self, text: str) -> dict[str, Any]:
        ack = await self.sio.call("user_uttered", {"message": text, "session_id": self.session_id,
                                                   "message_id": uuid.uuid4().hex}, timeout=60)
        assert ack["ok"] and not ack["duplicate"], ack
        return ack

    async def ask(self, text: str) -> dict[str, Any]:
        """Say ``text``; the bot's next reply, or the desk's queue notice if it handed off instead."""
        start = len(self.received)
        await self.say(text)
        return await self.wait_for(
            lambda m: m["metadata"].get("sender") == "bot" or m["metadata"].get("event") == "queued", start=start)

    def since(self, index: int) -> list[dict[str, Any]]:
        return self.received[index:]

    async def wait_for(self, predicate, *, start: int = 0, timeout: float = 60) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        async def _wait() -> dict[str, Any]:
            while True:
                for msg in self.received[start:]:
                    if predicate(msg):
                        return msg
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def close(self) -> None:
        await self.sio.disconnect()
