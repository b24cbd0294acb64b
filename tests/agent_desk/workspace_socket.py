"""A staff browser's live connection (socket.io namespace /agent), as the workspace page opens it."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import socketio

EVENTS = ("queue_updated", "case_message", "case_closed", "case_rated", "message_delivery")
Events = list[tuple[str, dict[str, Any]]]


def case_of(data: dict[str, Any]) -> int | None:
    return data.get("case_id") or (data.get("case") or {}).get("id")


class Workspace:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: Events = []
        self.ended = asyncio.Event()  # the connection was closed
        self._changed = asyncio.Event()
        for event in EVENTS:
            self.sio.on(event, self._recorder(event), namespace="/agent")
        self.sio.on("disconnect", self._on_disconnect, namespace="/agent")

    def _recorder(self, event: str) -> Callable[[dict[str, Any]], Any]:
        async def record(data: dict[str, Any]) -> None:
            self.events.append((event, data))
            self._changed.set()
        return record

    async def _on_disconnect(self, *reason: Any) -> None:
        self.ended.set()

    async def open(self, url: str, token: str) -> Workspace:
        await self.sio.connect(url, namespaces=["/agent"], auth={"token": token}, transports=["websocket"],
                               wait_timeout=10)
        return self

    def cases(self, event: str = "queue_updated") -> set[int]:
        return {c for e, d in self.events if e == event and (c := case_of(d)) is not None}

    async def wait_until(self, found: Callable[[Events], Any], timeout: float = 15) -> Any:
        """The first result of ``found(events)`` that is not None, waiting for new events until then."""
        async def _wait() -> Any:
            while True:
                result = found(self.events)
                if result is not None:
                    return result
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(_wait(), timeout)

    async def wait_for(self, event: str, case_id: int, timeout: float = 15) -> dict[str, Any]:
        return await self.wait_until(  # type: ignore[no-any-return]
            lambda events: next((d for e, d in events if e == event and case_of(d) == case_id), None), timeout)

    async def wait_ended(self, timeout: float = 10) -> None:
        try:
            await asyncio.wait_for(self.ended.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: the desk kept the socket open") from None

    async def close(self) -> None:
        await self.sio.disconnect()
