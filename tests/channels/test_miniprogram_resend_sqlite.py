"""The embedded default (SQLite) gets durable mini-program delivery too: the migration turns
replies that an older desk stored but never sent into ``pending`` (web messages stay as they
were), and the sweep sends them. A fresh SQLite file per test; WeChat is FakeWeChat."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from agent_desk.settings import ROOT, Settings
from tests.support.fake_wechat import FakeWeChat

# alembic.ini predates alembic's path_separator option; the CLI migrates the same way.
pytestmark = pytest.mark.filterwarnings("ignore:No path_separator found:DeprecationWarning")


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    server = FakeWeChat().start()
    yield server
    server.stop()


def migrate(url: str, revision: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "agent_desk" / "migrations"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, revision)


OLD_ROWS = """
INSERT INTO citizens (id, channel, external_id, display_name, phone_masked, created_at, last_seen_at)
  VALUES (1, 'miniprogram', 'oOldDesk000000000001', '', '', '2026-12-01 00:00:00', '2026-12-01 00:00:00'),
         (2, 'web', 'web-old-citizen', '', '', '2026-12-01 00:00:00', '2026-12-01 00:00:00');
INSERT INTO conversations (id, citizen_id, channel, status, consecutive_fallbacks, created_at, updated_at)
  VALUES (1, 1, 'miniprogram', 'bot', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00'),
         (2, 2, 'web', 'bot', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00');
INSERT INTO messages (id, conversation_id, citizen_id, sender, kind, text, payload, private, delivery, created_at)
  VALUES (1, 1, 1, 'citizen', 'text', '你好', '{}', 0, 'stored', '2026-12-01 00:00:00'),
         (2, 1, 1, 'bot', 'text', '您好，请问有什么可以帮您？', '{"metadata": {}}', 0, 'stored', '2026-12-01 00:00:00'),
         (3, 1, 1, 'bot', 'text', '已发出的答复', '{"metadata": {}}', 0, 'sent', '2026-12-01 00:00:00'),
         (4, 1, 1, 'agent', 'text', '内部备注', '{}', 1, 'stored', '2026-12-01 00:00:00'),
         (5, 2, 2, 'bot', 'text', '网页端的答复', '{"metadata": {}}', 0, 'stored', '2026-12-01 00:00:00');
"""


async def test_an_older_desks_unsent_reply_is_sent_after_the_upgrade(tmp_path: Path, fake: FakeWeChat,
                                                                      redis_url: str) -> None:
    from agent_desk.app import close_context, open_context
    from agent_desk.db import make_engine
    from agent_desk.realtime import make_sio
    from agent_desk.redis_keys import RedisKeys
    from channels import miniprogram_resend

    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
    await asyncio.to_thread(migrate, url, "0002")
    engine = make_engine(url)
    async with engine.begin() as conn:
        for statement in filter(str.strip, OLD_ROWS.split(";")):
            await conn.execute(text(statement))
        # Two minutes ago (UTC, as SQLite rows hold it): due for the sweep, inside WeChat's window.
        await conn.execute(text("UPDATE messages SET created_at = datetime('now', '-2 minutes')"))
    await engine.dispose()
    await asyncio.to_thread(migrate, url, "head")

    prefix = f"desk-sqlite-{uuid.uuid4().hex[:8]}"
    settings = Settings(env="test", database_url=url, redis_url=redis_url, redis_prefix=prefix,
                        wechat_appid=fake.appid, wechat_secret=fake.secret, wechat_api_base=fake.url)
    keys = RedisKeys(prefix)
    ctx = await open_context(settings, sio=make_sio(redis_url=redis_url, channel=keys.socketio_channel,
                                                    origins=None), keys=keys)
    try:
        async with ctx.engine.connect() as conn:
            before: dict[int, str] = dict((await conn.execute(text("SELECT id, delivery FROM messages"))).all())
        assert before == {1: "stored", 2: "pending", 3: "sent", 4: "stored", 5: "stored"}
        assert await miniprogram_resend.sweep(ctx) == 1
        async with ctx.engine.connect() as conn:
            after: dict[int, str] = dict((await conn.execute(text("SELECT id, delivery FROM messages"))).all())
    finally:
        async for key in ctx.redis.scan_iter(f"{prefix}:*"):
            await ctx.redis.delete(key)
        await close_context(ctx)
    assert after == {**before, 2: "sent"}
    assert [(m.touser, m.text) for m in fake.sent] == [("oOldDesk000000000001", "您好，请问有什么可以帮您？")]
