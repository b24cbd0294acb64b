"""A desk process without Rasa (its bot URL is a closed port, so the desk hands every question
to a person) for HTTP-level tests, on the real PostgreSQL and Redis (own key prefix); and
helpers that put cases into the shared test database through the real services."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agent_desk.models import AuditEntry, Case, Citizen, Conversation
from agent_desk.services.cases import open_case
from agent_desk.services.messages import store_message
from tests.support import services

SECRET = "test-secret-for-desk-process-0123456789abcdef"


@dataclass
class DeskProcess:
    url: str
    log: Path
    prefix: str
    proc: services.Proc

    def login(self, http: httpx.Client, username: str, password: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        return http.post("/api/auth/login", json={"username": username, "password": password}, **kwargs)

    def headers(self, username: str, password: str) -> dict[str, str]:
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def stop(self) -> None:
        self.proc.stop()


def start(pg_url: str, redis_url: str, service_token: str, *, extra: dict[str, str] | None = None,
          name: str = "desk-http", asgi: str = "agent_desk.asgi:app", prefix: str = "") -> DeskProcess:
    """A desk process; processes given the same ``prefix`` act as workers of one desk."""
    port = services.free_port()
    prefix = prefix or f"{name}-{uuid.uuid4().hex[:8]}"
    env = services.desk_env(database_url=pg_url, redis_url=redis_url, port=port,
                            bot_url=f"http://127.0.0.1:{services.free_port()}", prefix=prefix,
                            service_token=service_token, extra={"DESK_SECRET_KEY": SECRET, **(extra or {})})
    proc = services.start_desk(env, port, name=name, asgi=asgi)
    return DeskProcess(url=f"http://127.0.0.1:{port}", log=proc.log, prefix=prefix, proc=proc)


@pytest.fixture(scope="module")
def plain_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[DeskProcess]:
    desk = start(pg_url, redis_url, service_token, name="desk-plain")
    yield desk
    desk.stop()


def audit_entries(pg_url: str, action: str) -> list[AuditEntry]:
    async def load() -> list[AuditEntry]:
        from agent_desk.db import make_engine, make_sessionmaker

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                          .order_by(AuditEntry.id))).scalars().all()
        await engine.dispose()
        return list(rows)

    return asyncio.run(load())


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


def create_staff(pg_url: str, *, prefix: str = "clerk", password: str = "clerk-password-123",
                 role: str = "agent") -> tuple[int, str]:
    """A new staff account (unique username), committed; ``(id, username)``. For sync tests."""
    async def make() -> tuple[int, str]:
        from agent_desk.db import make_engine, make_sessionmaker
        from agent_desk.models import Role
        from agent_desk.services.auth import create_user

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            user = await create_user(session, username=f"{prefix}-{uuid.uuid4().hex[:6]}", display_name="窗口坐席",
                                     role=Role(role), password=password)
            await session.commit()
            found = (user.id, user.username)
        await engine.dispose()
        return found

    return asyncio.run(make())


def add_audit_entry(pg_url: str, **fields: Any) -> int:
    """An audit row written straight to the database (as an older desk may have left it)."""
    async def add() -> int:
        from agent_desk.db import make_engine, make_sessionmaker

        engine = make_engine(services._normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            entry = AuditEntry(**fields)
            session.add(entry)
            await session.commit()
            entry_id = entry.id
        await engine.dispose()
        return entry_id

    return asyncio.run(add())
