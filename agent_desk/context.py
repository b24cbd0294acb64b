"""What services need at run time, opened once per worker and kept on ``app.ctx``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .redis_keys import RedisKeys
from .settings import Settings

if TYPE_CHECKING:
    import httpx
    import socketio
    from redis.asyncio import Redis


@dataclass
class DeskContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    keys: RedisKeys
    sio: socketio.AsyncServer
    http: httpx.AsyncClient
    extras: dict[str, Any]
