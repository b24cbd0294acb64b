"""Operator commands: ``python -m agent_desk.cli migrate | seed-demo | create-user | enable-user``.

A refused command prints one line (``error: …``) to stderr and exits with status 1.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys

from alembic import command
from alembic.config import Config
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .db import make_engine, make_sessionmaker
from .models import Role, User
from .redis_keys import RedisKeys
from .services import audit, login_throttle
from .services.auth import create_user
from .settings import ROOT, Settings

DEMO_USERS = (
    ("agent", "王晓明", Role.agent, "agent-demo-2026"),
    ("agent2", "李芳", Role.agent, "agent2-demo-2026"),
    ("manager", "张主任", Role.manager, "manager-demo-2026"),
)


def migrate(settings: Settings) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "agent_desk" / "migrations"))
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")


async def seed_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo accounts if missing (dev mode only); returns their credentials."""
    if not settings.is_dev:
        raise SystemExit("refusing to create demo accounts outside dev mode (DESK_ENV=dev|test)")
    engine = make_engine(settings.database_url)
    created = []
    async with make_sessionmaker(engine)() as session:
        for username, name, role, password in DEMO_USERS:
            exists = (await session.execute(select(User.id).where(User.username == username))).first()
            if not exists:
                await create_user(session, username=username, display_name=name, role=role, password=password)
            created.append((role.value, username, password))
        await session.commit()
    await engine.dispose()
    return created


USERNAME = re.compile(r"[A-Za-z0-9._-]{3,32}")
NAME_MAX = 32


def fail(message: str) -> SystemExit:
    """A refused command: ``error: <message>`` on stderr, exit status 1."""
    return SystemExit(f"error: {message}")


def check_new_user(username: str, display_name: str) -> str:
    """The display name to store (stripped); raises ``fail`` for a username or name the desk's
    pages could not show sensibly."""
    if not USERNAME.fullmatch(username):
        raise fail(f"username {username[:40]!r} must be 3-32 characters: letters, digits, '.', '_' or '-'")
    name = display_name.strip()
    if not 1 <= len(name) <= NAME_MAX or any(not ch.isprintable() for ch in name):
        raise fail(f"display name must be 1-{NAME_MAX} printable characters (after trimming spaces)")
    return name


async def _username_taken(session: AsyncSession, username: str) -> bool:
    # Any case: 'Manager' beside 'manager' would be two accounts that look the same on every page.
    found = await session.execute(select(User.id).where(func.lower(User.username) == username.lower()))
    return found.first() is not None


async def _create_user(settings: Settings, username: str, name: str, role: str,
                       password: str | None = None) -> None:
    name = check_new_user(username, name)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await _username_taken(session, username):
                raise fail(f"username {username!r} already exists")
            if password is None:
                # Typed at a terminal without echo; a script pipes it in (one line, no prompt).
                password = (getpass.getpass("password: ") if sys.stdin.isatty()
                            else sys.stdin.readline().rstrip("\r\n"))
            if len(password) < 10:
                raise fail("password must be at least 10 characters")
            await create_user(session, username=username, display_name=name, role=Role(role), password=password)
            try:
                await session.commit()
            except IntegrityError:  # created by someone else since the check
                raise fail(f"username {username!r} already exists") from None
    finally:
        await engine.dispose()
    print(f"created {role} {username} ({name})")


async def _lift_login_lock(settings: Settings, username: str) -> bool | None:
    """Whether a login lock on ``username`` was lifted; None when Redis cannot be reached (the
    lock then ends by itself after DESK_LOGIN_LOCK_S)."""
    redis = Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=3, socket_timeout=3)
    try:
        return await login_throttle.unlock_user(redis, RedisKeys(settings.redis_prefix), username=username)
    except (RedisError, OSError):
        return None
    finally:
        await redis.aclose()


async def _enable_user(settings: Settings, username: str) -> None:
    """Let an account log in again (the recovery when no manager can): ``active`` is set and a
    login lock on it lifted, audited ``staff.enable`` with no actor (role ``system``)."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
            if user is None:
                raise fail(f"no account named {username!r}")
            was_active = user.active
            user.active = True
            was_locked = await _lift_login_lock(settings, username)
            await audit.record(session, actor_id=None, actor_role="system", action="staff.enable",
                               target_type="user", target_id=username,
                               detail={"was_locked": was_locked, "was_active": was_active, "via": "cli"})
            await session.commit()
    finally:
        await engine.dispose()
    state = "was already enabled" if was_active else "enabled"
    lock = {True: "; its login lock was lifted", False: "",
            None: "; Redis unreachable: a login lock on it (if any) ends by itself after DESK_LOGIN_LOCK_S"}
    print(f"{user.role.value} {username} {state}{lock[was_locked]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent_desk.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed-demo", help="create demo agent and manager accounts (dev only)")
    cu = sub.add_parser("create-user", help="create a staff account")
    cu.add_argument("username")
    cu.add_argument("display_name")
    cu.add_argument("role", choices=[r.value for r in Role])
    eu = sub.add_parser("enable-user", help="let a disabled or locked-out account log in again")
    eu.add_argument("username")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.cmd == "migrate":
        migrate(settings)
        print("database migrated:", settings.database_url.split("@")[-1])
    elif args.cmd == "seed-demo":
        for role, username, password in asyncio.run(seed_demo(settings)):
            print(f"  {role:8s} {username} / {password}")
    elif args.cmd == "create-user":
        asyncio.run(_create_user(settings, args.username, args.display_name, args.role))
    elif args.cmd == "enable-user":
        asyncio.run(_enable_user(settings, args.username))
    return 0


if __name__ == "__main__":
    sys.exit(main())
