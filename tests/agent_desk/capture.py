"""A channel that records what the desk sends, for in-process router tests.

It stands in for the citizen's device only; everything behind it (router, database,
Redis, Rasa) is real.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict

from agent_desk.services.delivery import register_channel
from channels.base import OutboundMessage

CHANNEL = "capture"


class Outbox:
    def __init__(self) -> None:
        self.by_citizen: defaultdict[str, list[OutboundMessage]] = defaultdict(list)
        self._changed = asyncio.Event()

    async def send(self, ctx, citizen, out: OutboundMessage, message_id: int) -> None:  # type: ignore[no-untyped-def]
        self.by_citizen[citizen.external_id].append(out)
        self._changed.set()

    async def wait_for(self, external_id: str, predicate, timeout: float = 30.0) -> OutboundMessage:  # type: ignore[no-untyped-def]
        async def _wait() -> OutboundMessage:
            while True:
                for out in self.by_citizen[external_id]:
                    if predicate(out):
                        return out
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)


def install() -> Outbox:
    box = Outbox()
    register_channel(CHANNEL, box.send)
    return box
