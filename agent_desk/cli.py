"""Operator commands: ``python -m agent_desk.cli migrate | seed-demo | create-user``."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from .db import make_engine, make_sessionmaker
from .models import Role, User
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


async def _create_user(settings: Settings, username: str, name: str, role: str) -> None:
    password = getpass.getpass("password: ")
    if len(password) < 10:
        raise SystemExit("password must be at least 10 characters")
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session:
        await create_user(session, username=username, display_name=name, role=Role(role), password=password)
        await session.commit()
    await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent_desk.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed-demo", help="create demo agent and manager accounts (dev only)")
    cu = sub.add_parser("create-user", help="create a staff account")
    cu.add_argument("username")
    cu.add_argument("display_name")
    cu.add_argument("role", choices=[r.value for r in Role])
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
