"""The e2e stack: its own fresh PostgreSQL database and Redis prefix, the shared real Rasa
server and action server, and a desk process started for this module."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import DeskServer
from tests.support import services


@pytest.fixture(scope="module")
def e2e_desk(bot_stack, redis_url: str, service_token: str) -> Iterator[DeskServer]:
    from agent_desk.cli import seed_demo
    from agent_desk.settings import Settings

    db = f"desk_e2e_{uuid.uuid4().hex[:6]}"
    base = services.PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{db}"
    asyncio.run(services._ensure_database(services.PG_ADMIN_URL, db))
    import os
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "agent_desk.cli", "migrate"], cwd=services.ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url}, capture_output=True)
    asyncio.run(seed_demo(Settings(env="test", database_url=services._normalise(url))))
    port = services.free_port()
    env = services.desk_env(database_url=url, redis_url=redis_url, bot_url=bot_stack.url, port=port,
                            prefix=f"desk-e2e-{uuid.uuid4().hex[:6]}", service_token=service_token)
    proc = services.start_desk(env, port, name="desk-e2e")
    yield DeskServer(url=f"http://127.0.0.1:{port}", port=port, env=env)
    proc.stop()
    asyncio.run(_drop_database(db))


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(services.PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
