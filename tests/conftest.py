"""Shared fixtures: the real PostgreSQL and Redis on 127.0.0.1, and (on demand) the real
Rasa server, action server and desk as processes."""
from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

# Imported lazily: the bot's own tests (tests/bot, Python 3.10 env) share this conftest
# but not the desk's dependencies.
services = None


def _services():  # type: ignore[no-untyped-def]
    global services
    if services is None:
        from tests.support import services as mod

        services = mod
    return services

os.environ.setdefault("DESK_ENV", "test")


@pytest.fixture(scope="session")
def pg_url() -> str:
    return _services().prepare_postgres()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _services().TEST_REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"desk-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def service_token() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def bot_token() -> str:
    return os.environ.setdefault("BOT_API_TOKEN", "test-bot-token")


@dataclass
class BotStack:
    url: str
    token: str


@dataclass
class DeskServer:
    url: str
    port: int
    env: dict[str, str]

    def login(self, username: str, password: str) -> str:
        import httpx

        r = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["token"])


@pytest.fixture(scope="session")
def desk_port() -> int:
    return _services().free_port()


@pytest.fixture(scope="session")
def bot_stack(desk_port: int, bot_token: str, service_token: str) -> Iterator[BotStack]:
    """The real Rasa server with the trained model, and the action server."""
    model = _services().trained_model()
    port, action_port = _services().free_port(), _services().free_port()
    rasa, actions = _services().start_bot(model=model, port=port, action_port=action_port, token=bot_token,
                                       desk_url=f"http://127.0.0.1:{desk_port}", service_token=service_token)
    yield BotStack(url=f"http://127.0.0.1:{port}", token=bot_token)
    rasa.stop()
    actions.stop()


@pytest.fixture(scope="session")
def demo_users(pg_url: str) -> dict[str, str]:
    import asyncio

    from agent_desk.cli import seed_demo
    from agent_desk.settings import Settings

    creds = asyncio.run(seed_demo(Settings(env="test", database_url=_services()._normalise(pg_url))))
    return {username: password for _role, username, password in creds}


@pytest.fixture(scope="session")
def desk_server(pg_url: str, redis_url: str, redis_prefix: str, service_token: str, bot_stack: BotStack,
                desk_port: int, demo_users: dict[str, str]) -> Iterator[DeskServer]:
    """The desk as a real process, talking to the real bot, PostgreSQL and Redis."""
    env = _services().desk_env(database_url=pg_url, redis_url=redis_url, bot_url=bot_stack.url, port=desk_port,
                            prefix=redis_prefix, service_token=service_token)
    proc = _services().start_desk(env, desk_port)
    yield DeskServer(url=f"http://127.0.0.1:{desk_port}", port=desk_port, env=env)
    proc.stop()


@pytest.fixture
async def desk_ctx(pg_url: str, redis_url: str, service_token: str) -> AsyncIterator[object]:
    """An in-process DeskContext on the real database and Redis (own key prefix per test).

    Its bot URL points at a closed port unless a test sets ``ctx.extras['bot']`` itself.
    """
    from agent_desk.app import close_context, open_context
    from agent_desk.realtime import make_sio
    from agent_desk.redis_keys import RedisKeys
    from agent_desk.settings import Settings

    prefix = f"desk-unit-{uuid.uuid4().hex[:8]}"
    settings = Settings(env="test", database_url=_services()._normalise(pg_url), redis_url=redis_url,
                        redis_prefix=prefix, bot_url=f"http://127.0.0.1:{_services().free_port()}",
                        service_token=service_token, bot_timeout_s=3)
    keys = RedisKeys(prefix)
    sio = make_sio(redis_url=redis_url, channel=keys.socketio_channel, origins=None)
    ctx = await open_context(settings, sio=sio, keys=keys)
    yield ctx
    async for key in ctx.redis.scan_iter(f"{prefix}:*"):
        await ctx.redis.delete(key)
    await close_context(ctx)
