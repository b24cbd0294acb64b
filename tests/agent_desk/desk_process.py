"""A desk process without Rasa (its bot URL is a closed port) for HTTP tests of the staff API,
and helpers that put cases into the shared test database through the real services."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agent_desk.models import Case, Citizen, Conversation
from agent_desk.services.cases import open_case
from agent_desk.services.messages import store_message
from tests.support import services


@dataclass
class PlainDesk:
    url: str

    def headers(self, username: str, password: str) -> dict[str, str]:
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def plain_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[PlainDesk]:
    port = services.free_port()
    env = services.desk_env(database_url=pg_url, redis_url=redis_url,
                            bot_url=f"http://127.0.0.1:{services.free_port()}", port=port,
                            prefix=f"desk-plain-{uuid.uuid4().hex[:8]}", service_token=service_token)
    proc = services.start_desk(env, port, name="desk-plain")
    yield PlainDesk(url=f"http://127.0.0.1:{port}")
    proc.stop()


async def seed_case(ctx: Any, *, name: str = "", bot_topics: tuple[str, ...] = (),
                    last_topic: str | None = None, reason: str = "handoff_intent") -> Case:
    """A queued case of a web citizen whose bot part answered ``bot_topics`` (in that order)."""
    async with ctx.sessions() as session:
        citizen = Citizen(channel="web", external_id=f"seed-{uuid.uuid4().hex[:10]}", display_name=name)
        session.add(citizen)
        await session.flush()
        conv = Conversation(citizen_id=citizen.id, channel="web", last_topic=last_topic)
        session.add(conv)
        await session.flush()
        for topic in bot_topics:
            await store_message(session, conversation=conv, sender="bot", text=f"（{topic} 的答复）",
                                payload={"metadata": {"topic": topic, "kind": "answer"}})
        case = await open_case(ctx, session, conversation=conv, reason=reason)
        await session.commit()
        return case


async def seed_rating(ctx: Any, *, case: Case, score: int, comment: str = "") -> int:
    """The citizen of a closed ``case`` rates it (through the ratings service); returns the rating id."""
    from agent_desk.services.ratings import RatingRequest, rate_case

    async with ctx.sessions() as session:
        citizen = await session.get(Citizen, case.citizen_id)
        assert citizen is not None
        request = RatingRequest(score=score, comment=comment, case=case.tracking_no)
        _, rating = await rate_case(session, citizen=citizen, request=request)
        await session.commit()
        return rating.id
