"""Alembic environment: the URL comes from the desk's settings (DATABASE_URL), never from alembic.ini."""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from agent_desk.db import make_engine
from agent_desk.models import Base
from agent_desk.settings import Settings

target_metadata = Base.metadata


def _url() -> str:
    return context.config.attributes.get("database_url") or Settings.from_env().database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())
