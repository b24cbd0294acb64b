"""WeChat retries a push it got no answer to within 5 s, three times. A bot turn that takes
6 s must still give one reply, one case and one queue entry, even when the retries land on
different workers.

The bot here is SlowRasa (tests/support/fake_wechat.py), a stand-in speaking Rasa's REST
shape that answers after 6 s with a handoff: the real Rasa answers in well under a second
and cannot be made slow on demand. Two desk processes share one Redis prefix and database,
as two workers behind one load balancer do.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from agent_desk.redis_keys import RedisKeys
from tests.support import services
from tests.support.fake_wechat import FakeWeChat, WeChatPusher, text_push
from tests.support.slow_rasa import SlowRasa
from tests.support.threaded_server import wait_for

TOKEN = "mp-retry-token"
AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
APPID = "wx-retry-appid"
HANDOFF_TEXT = "好的，正在为您转接人工客服。"


@pytest.fixture(scope="module")
def slow_bot() -> Iterator[SlowRasa]:
    server = SlowRasa(delay_s=6.0, reply=lambda text: [{"custom": {"text": HANDOFF_TEXT,
                                                                  "metadata": {"handoff": True}}}]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_workers(pg_url: str, redis_url: str, service_token: str, fake: FakeWeChat,
                slow_bot: SlowRasa) -> Iterator[tuple[list[str], str]]:
    prefix = f"desk-mp-retry-{uuid.uuid4().hex[:8]}"
    procs, urls = [], []
    for i in range(2):
        port = services.free_port()
        env = services.desk_env(
            database_url=pg_url, redis_url=redis_url, bot_url=slow_bot.url, port=port, prefix=prefix,
            service_token=service_token,
            extra={"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APPID,
                   "WECHAT_SECRET": fake.secret, "WECHAT_MSG_FORMAT": "json", "WECHAT_API_BASE": fake.url,
                   "BOT_TIMEOUT_S": "15"})
        procs.append(services.start_desk(env, port, name=f"desk-mp-retry-{i}"))
        urls.append(f"http://127.0.0.1:{port}")
    yield urls, prefix
    for p in procs:
        p.stop()


async def test_three_deliveries_during_a_slow_turn_give_one_reply_and_one_case(
        two_workers: tuple[list[str], str], fake: FakeWeChat, slow_bot: SlowRasa, desk_ctx: Any) -> None:
    from agent_desk.models import Case, Citizen, Message

    urls, prefix = two_workers
    workers = [WeChatPusher(u, token=TOKEN, appid=APPID, fmt="json", aes_key=AES_KEY) for u in urls]
    user = f"oRetry{uuid.uuid4().hex[:16]}"
    content = f"我要办理居住证{user[-4:]}"
    msg_id = 7_000_000_000_000_000 + int(time.time())
    params, body = workers[0].build(text_push(user, content, msg_id))

    started = time.monotonic()
    first = workers[0].send(params, body)
    assert (first.status_code, first.text) == (200, "success")
    assert time.monotonic() - started < 1.0
    # WeChat's retries arrive while the bot turn is still running: wait until it has begun.
    wait_for(lambda: content in slow_bot.messages(), timeout=10, what="the bot turn to start")
    for worker in (workers[1], workers[0]):  # the retries land on the other worker, then back
        t0 = time.monotonic()
        resp = worker.send(params, body)
        assert (resp.status_code, resp.text) == (200, "success")
        assert time.monotonic() - t0 < 1.0  # answered at once, not after the 6 s turn

    texts = wait_for(lambda: [t for t in fake.texts_to(user) if "受理编号" in t] and fake.texts_to(user),
                     timeout=30, what="the reply and the queue notice")
    assert time.monotonic() - started >= 6.0  # it really was a slow turn
    joined = "\n".join(texts)
    assert joined.count(HANDOFF_TEXT) == 1 and joined.count("受理编号") == 1
    assert slow_bot.messages().count(content) == 1

    async with desk_ctx.sessions() as session:
        citizen = (await session.execute(select(Citizen).where(
            Citizen.channel == "miniprogram", Citizen.external_id == user))).scalar_one()
        cases = list((await session.execute(select(Case).where(Case.citizen_id == citizen.id))).scalars())
        inbound = (await session.execute(select(func.count(Message.id)).where(
            Message.citizen_id == citizen.id, Message.sender == "citizen"))).scalar_one()
    assert len(cases) == 1 and inbound == 1
    assert cases[0].tracking_no in joined and cases[0].channel == "miniprogram"
    # The retries were dropped at the door, by a key both workers see, not by luck downstream.
    dedupe_ttl = await desk_ctx.redis.ttl(RedisKeys(prefix).dedupe("miniprogram", f"{user}:msg:{msg_id}"))
    assert 0 < dedupe_ttl <= 24 * 3600
    queue = await desk_ctx.redis.zrange(RedisKeys(prefix).queue, 0, -1)
    assert queue.count(str(cases[0].id)) == 1
