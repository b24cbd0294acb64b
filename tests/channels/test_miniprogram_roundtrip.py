"""A mini-program citizen's whole service, end to end, over WeChat's protocol only:
enter → greeting → bot answer (real Rasa) → handoff → queue → agent accepts → chat (image
in, text out, one message lost to a closed 48-hour window and shown to the agent) → close →
rating by digit.

Real processes: Rasa and the action server (``bot_stack``), a desk configured for the
mini-program (safe mode, XML), PostgreSQL, Redis. Only WeChat's servers are faked.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support import services
from tests.support.fake_wechat import FakeWeChat, WeChatPusher, text_push
from tests.support.threaded_server import wait_for

pytestmark = pytest.mark.e2e

TOKEN = "mp-e2e-token"
AES_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
APPID = "wx-e2e-appid"


@pytest.fixture(scope="module")
def mp_desk(pg_url: str, redis_url: str, service_token: str, bot_stack: Any, demo_users: dict[str, str],
            fake: FakeWeChat) -> Iterator[str]:
    port = services.free_port()
    env = services.desk_env(
        database_url=pg_url, redis_url=redis_url, bot_url=bot_stack.url, port=port,
        prefix=f"desk-mp-e2e-{uuid.uuid4().hex[:8]}", service_token=service_token,
        extra={"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APPID,
               "WECHAT_SECRET": fake.secret, "WECHAT_MSG_FORMAT": "xml", "WECHAT_API_BASE": fake.url})
    proc = services.start_desk(env, port, name="desk-mp-e2e")
    yield f"http://127.0.0.1:{port}"
    proc.stop()


class Citizen:
    """A WeChat user of the mini-program, as the desk sees them through pushes and sends."""

    def __init__(self, pusher: WeChatPusher, fake: FakeWeChat) -> None:
        self.openid = f"oE2e{uuid.uuid4().hex[:20]}"
        self.pusher, self.fake = pusher, fake
        self.seen = 0

    def say(self, content: str) -> None:
        resp = self.pusher.push(text_push(self.openid, content, time.time_ns() % 10**18))
        assert (resp.status_code, resp.text) == (200, "success")

    def push(self, fields: dict[str, Any]) -> None:
        base = {"ToUserName": "gh_e2e", "FromUserName": self.openid, "CreateTime": int(time.time())}
        resp = self.pusher.push({**base, **fields})
        assert (resp.status_code, resp.text) == (200, "success")

    def expect(self, needle: str, timeout: float = 30) -> str:
        """The next text sent to this citizen that contains ``needle`` (earlier ones are skipped)."""
        def find() -> str | None:
            texts = self.fake.texts_to(self.openid)
            for i in range(self.seen, len(texts)):
                if needle in texts[i]:
                    self.seen = i + 1
                    return texts[i]
            return None
        return str(wait_for(find, timeout=timeout, what=f"a message containing {needle!r}"))


class Agent:
    def __init__(self, base: str, username: str, password: str) -> None:
        r = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"},
                                 timeout=15)

    def get(self, path: str, **kw: Any) -> Any:
        r = self.http.get(path, **kw)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        r = self.http.post(path, json=body or {})
        assert r.status_code in (200, 201), r.text
        return r.json()


async def test_handoff_chat_close_and_rating_over_the_mini_program(
        mp_desk: str, fake: FakeWeChat, demo_users: dict[str, str], desk_ctx: Any) -> None:
    from agent_desk.models import Rating

    citizen = Citizen(WeChatPusher(mp_desk, token=TOKEN, appid=APPID, fmt="xml", aes_key=AES_KEY), fake)

    citizen.push({"MsgType": "event", "Event": "user_enter_tempsession", "SessionFrom": "e2e"})
    assert "1. 转人工客服" in citizen.expect("欢迎")

    citizen.say("社保卡丢了怎么补办")
    wait_for(lambda: len(fake.texts_to(citizen.openid)) > citizen.seen, timeout=30, what="the bot's answer")
    answer = fake.texts_to(citizen.openid)[citizen.seen]
    citizen.seen += 1
    assert "社保" in answer  # the real bot answered the question, relayed as a WeChat text

    citizen.say("我要转人工")
    notice = citizen.expect("受理编号")
    tracking_no = re.search(r"受理编号\s*(\S+?)。", notice).group(1)  # type: ignore[union-attr]

    agent = Agent(mp_desk, "agent", demo_users["agent"])
    queued = agent.get("/api/cases/", params={"status": "queued"})["cases"]
    case = next(c for c in queued if c["tracking_no"] == tracking_no)
    assert case["channel"] == "miniprogram" and case["citizen"]["channel"] == "miniprogram"
    assert case["queue_position"] >= 1
    info = agent.get(f"/api/cases/{case['id']}/channel-info")
    assert info["channel"] == "miniprogram" and info["window"]["open"] is True
    assert 47 * 3600 < info["window"]["seconds_left"] <= 48 * 3600

    agent.post(f"/api/cases/{case['id']}/accept")
    citizen.expect("已接入")

    citizen.push({"MsgType": "image", "PicUrl": "https://mmbiz.example/idcard.jpg", "MediaId": "MEDIA_E2E",
                  "MsgId": time.time_ns() % 10**18})
    citizen.say("这是我的材料照片")

    def citizen_side() -> list[dict[str, Any]]:
        msgs = agent.get(f"/api/cases/{case['id']}/messages")["messages"]
        return [m for m in msgs if m["sender"] == "citizen" and m["kind"] in ("image", "text")]
    seen = wait_for(lambda: [m for m in citizen_side() if m["text"] == "这是我的材料照片"] and citizen_side(),
                    timeout=20, what="the citizen's image and text in the agent's transcript")
    image = next(m for m in seen if m["kind"] == "image")
    assert image["attachment"]["url"] == "https://mmbiz.example/idcard.jpg"

    agent.post(f"/api/cases/{case['id']}/messages", {"text": "您好，材料已收到，正在为您核实。"})
    assert citizen.expect("材料已收到") == "您好，材料已收到，正在为您核实。"

    # The 48-hour window closes: the next agent message cannot go out, and the agent sees why.
    fake.close_window(citizen.openid)
    sent = agent.post(f"/api/cases/{case['id']}/messages", {"text": "还需要补充户口本首页。"})["message"]
    lost = wait_for(lambda: next((m for m in agent.get(f"/api/cases/{case['id']}/messages")["messages"]
                                  if m["id"] == sent["id"] and m["delivery"] == "undelivered"), None),
                    timeout=20, what="the message marked undelivered")
    assert "45015" in lost["delivery_error"] and "48小时" in lost["delivery_error"]
    fake.reopen_window(citizen.openid)

    agent.post(f"/api/cases/{case['id']}/close", {"note": "已指导补办"})
    card = citizen.expect("请您对本次服务进行评价")
    assert "1. 非常满意" in card and "5. 非常不满意" in card and tracking_no in card

    citizen.say("1")
    assert "非常满意" in citizen.expect("感谢您的评价")
    async with desk_ctx.sessions() as session:
        rating = (await session.execute(select(Rating).where(Rating.case_id == case["id"]))).scalar_one()
    assert (rating.score, rating.label, rating.agent_name != "") == (5, "非常满意", True)
    sent_msgs = agent.get(f"/api/cases/{case['id']}/messages")["messages"]
    assert {m["delivery"] for m in sent_msgs if m["sender"] == "agent" and m["id"] != sent["id"]} == {"sent"}
