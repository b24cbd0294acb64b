"""Real backing services for tests: PostgreSQL, Redis, the desk, Rasa and its action server.

Every helper waits on a condition (a port answering, a health check passing) with a deadline;
none sleeps blindly.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".run" / "test"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_DB = os.environ.get("TEST_PG_DB", "desk_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BOT_VENV = Path(os.environ.get("BOT_VENV", str(ROOT / ".venv-bot")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, proc: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: process exited with {proc.returncode}\n{tail}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} not ready after {timeout}s\n{tail}")


def http_ok(url: str, *, params: dict[str, str] | None = None) -> bool:
    return httpx.get(url, params=params, timeout=2).status_code == 200


async def _ensure_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _reset_schema(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def prepare_postgres() -> str:
    """A fresh, migrated test database; returns its SQLAlchemy URL."""
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{TEST_DB}"
    asyncio.run(_ensure_database(PG_ADMIN_URL, TEST_DB))
    asyncio.run(_reset_schema(url))
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "agent_desk.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return url


def desk_env(*, database_url: str, redis_url: str, bot_url: str, port: int, prefix: str,
             service_token: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "DESK_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "BOT_URL": bot_url, "DESK_PORT": str(port), "DESK_REDIS_PREFIX": prefix,
           "DESK_SERVICE_TOKEN": service_token, "BOT_API_TOKEN": os.environ.get("BOT_API_TOKEN", "test-bot-token"),
           "PYTHONPATH": str(ROOT)}
    env.update(extra or {})
    return env


class Proc:
    """A child process with its log file; stopped (whole process group) on ``stop``."""

    def __init__(self, name: str, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log = RUN_DIR / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._fh = open(self.log, "wb")
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._fh.close()


def start_desk(env: dict[str, str], port: int, *, name: str = "desk", asgi: str = "agent_desk.asgi:app") -> Proc:
    """The desk under uvicorn; ``asgi`` names another app object (a test's desk with extra routes)."""
    p = Proc(name, [sys.executable, "-m", "uvicorn", asgi, "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log"], cwd=ROOT, env=env)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), timeout=60, what="desk", proc=p.proc, log=p.log)
    return p


def trained_model() -> Path:
    """Path of the trained model (trains it when its inputs changed; cached by hash).

    TEST_BOT_MODEL points at an existing model instead (for iterating on desk code only).
    """
    if os.environ.get("TEST_BOT_MODEL"):
        return Path(os.environ["TEST_BOT_MODEL"])
    out = subprocess.run(["bash", str(ROOT / "scripts" / "train_bot.sh")], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True, env={**os.environ, "BOT_VENV": str(BOT_VENV)})
    return Path(out.stdout.strip().splitlines()[-1])


def start_bot(*, model: Path, port: int, action_port: int, token: str, desk_url: str,
              service_token: str) -> tuple[Proc, Proc]:
    """Rasa server (HTTP API on, token auth) and the action server, both on 127.0.0.1."""
    bot_dir = ROOT / "bot"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DESK_URL": desk_url, "DESK_SERVICE_TOKEN": service_token,
           "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
           "SANIC_HOST": "127.0.0.1"}  # the action server's bind address (rasa_sdk default 0.0.0.0)
    endpoints = RUN_DIR / f"endpoints-{action_port}.yml"
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    actions = Proc("actions", [str(BOT_VENV / "bin" / "rasa"), "run", "actions", "--actions", "actions",
                               "-p", str(action_port)], cwd=bot_dir, env=env)
    rasa = Proc("rasa", [str(BOT_VENV / "bin" / "rasa"), "run", "--enable-api", "--auth-token", token,
                         "-i", "127.0.0.1", "-p", str(port), "--model", str(model), "--endpoints", str(endpoints),
                         "--credentials", "credentials.yml"], cwd=bot_dir, env=env)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{action_port}/health"), timeout=120, what="action server",
               proc=actions.proc, log=actions.log)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/status", params={"token": token}), timeout=240,
               what="rasa server", proc=rasa.proc, log=rasa.log)
    # Warm-up: jieba loads its dictionary on the first parse (about a second).
    httpx.post(f"http://127.0.0.1:{port}/model/parse", params={"token": token}, json={"text": "你好"}, timeout=60)
    return rasa, actions


def _normalise(url: str) -> str:
    from agent_desk.settings import _normalise_db_url

    return _normalise_db_url(url)
