"""A desk process for HTTP-level tests: real PostgreSQL and Redis (own key prefix), the bot
at a closed port (the desk then hands every question to a person)."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from agent_desk.models import AuditEntry
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

    def stop(self) -> None:
        self.proc.stop()


def start(pg_url: str, redis_url: str, service_token: str, *, extra: dict[str, str] | None = None,
          name: str = "desk-http") -> DeskProcess:
    port = services.free_port()
    prefix = f"{name}-{uuid.uuid4().hex[:8]}"
    env = services.desk_env(database_url=pg_url, redis_url=redis_url, port=port,
                            bot_url=f"http://127.0.0.1:{services.free_port()}", prefix=prefix,
                            service_token=service_token, extra={"DESK_SECRET_KEY": SECRET, **(extra or {})})
    proc = services.start_desk(env, port, name=name)
    return DeskProcess(url=f"http://127.0.0.1:{port}", log=proc.log, prefix=prefix, proc=proc)


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
