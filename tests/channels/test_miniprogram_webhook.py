"""The mini-program push endpoint, on a real desk process, in all four configurations
(JSON/XML × plain/safe mode). WeChat's send API is FakeWeChat; the bot is SlowRasa with no
delay, which records every message that reaches it (so "nothing reached the bot" is a fact
we can check) and echoes it back.
"""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support import services
from tests.support.fake_wechat import FakeWeChat, RawXml, WeChatPusher, text_push
from tests.support.slow_rasa import SlowRasa
from tests.support.threaded_server import wait_for

TOKEN = "mp-test-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx-test-appid"
CONFIGS = [("json", False), ("json", True), ("xml", False), ("xml", True)]
CONFIG_IDS = ["json-plain", "json-safe", "xml-plain", "xml-safe"]


@pytest.fixture(scope="module")
def bot() -> Iterator[SlowRasa]:
    server = SlowRasa(delay_s=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def desks(pg_url: str, redis_url: str, service_token: str, fake: FakeWeChat, bot: SlowRasa) -> Iterator[dict]:
    started: dict[tuple[str, bool], tuple[str, services.Proc]] = {}

    def get(fmt: str, safe: bool) -> str:
        if (fmt, safe) not in started:
            port = services.free_port()
            env = services.desk_env(
                database_url=pg_url, redis_url=redis_url, bot_url=bot.url, port=port,
                prefix=f"desk-mp-{uuid.uuid4().hex[:8]}", service_token=service_token,
                extra={"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY if safe else "", "WECHAT_APPID": APPID,
                       "WECHAT_SECRET": fake.secret, "WECHAT_MSG_FORMAT": fmt, "WECHAT_API_BASE": fake.url})
            started[(fmt, safe)] = (f"http://127.0.0.1:{port}",
                                    services.start_desk(env, port, name=f"desk-mp-{fmt}-{int(safe)}"))
        return started[(fmt, safe)][0]

    yield {"get": get}
    for _url, proc in started.values():
        proc.stop()


@pytest.fixture(params=CONFIGS, ids=CONFIG_IDS)
def pusher(request: pytest.FixtureRequest, desks: dict) -> WeChatPusher:
    fmt, safe = request.param
    return WeChatPusher(desks["get"](fmt, safe), token=TOKEN, appid=APPID, fmt=fmt, aes_key=AES_KEY if safe else None)


def openid() -> str:
    return f"oMp{uuid.uuid4().hex[:20]}"


def msg_id() -> int:
    return int(time.time_ns() % 10**18)


async def citizen_messages(ctx: Any, external_id: str) -> list[Any]:
    from agent_desk.models import Citizen, Message

    async with ctx.sessions() as session:
        return list((await session.execute(
            select(Message).join(Citizen, Citizen.id == Message.citizen_id)
            .where(Citizen.external_id == external_id, Citizen.channel == "miniprogram").order_by(Message.id)
        )).scalars())


async def until(fetch: Any, check: Any, *, what: str, timeout: float = 15) -> Any:
    """Re-run an async query until ``check`` accepts its result."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}: {value!r}")
        await asyncio.sleep(0.05)


def test_url_verification(pusher: WeChatPusher) -> None:
    params, _ = pusher.build({})
    params = {k: params[k] for k in ("signature", "timestamp", "nonce")}
    ok = httpx.get(pusher.url, params={**params, "echostr": "echo-4711"}, timeout=5)
    assert ok.status_code == 200 and ok.text == "echo-4711"
    bad = httpx.get(pusher.url, params={**params, "signature": "0" * 40, "echostr": "echo-4711"}, timeout=5)
    assert bad.status_code == 403 and "echo-4711" not in bad.text
    missing = httpx.get(pusher.url, params={"echostr": "echo-4711"}, timeout=5)
    assert missing.status_code == 403


def test_valid_text_push_answers_at_once_and_replies_via_send_api(
        pusher: WeChatPusher, fake: FakeWeChat, bot: SlowRasa) -> None:
    user = openid()
    started = time.monotonic()
    resp = pusher.push(text_push(user, "社保卡丢了怎么补办", msg_id()))
    assert resp.status_code == 200 and resp.text == "success"
    assert time.monotonic() - started < 1.0
    wait_for(lambda: fake.texts_to(user), timeout=15, what="the reply to reach WeChat")
    assert fake.texts_to(user) == ["您咨询的是：社保卡丢了怎么补办"]
    assert bot.messages().count("社保卡丢了怎么补办") >= 1


def _rejections(pusher: WeChatPusher, user: str) -> list[tuple[str, dict[str, str], bytes, int, str]]:
    """(what, params, body, expected status, expected text) for every way a push is refused."""
    cases = []
    p, b = pusher.build(text_push(user, "篡改", msg_id()))
    cases.append(("wrong signature", {**p, "signature": "f" * 40, **({"msg_signature": "f" * 40}
                                                                    if pusher.crypto else {})}, b, 403, "mismatch"))
    p, b = pusher.build(text_push(user, "旧消息", msg_id()), timestamp=int(time.time()) - 3600)
    cases.append(("stale timestamp", p, b, 403, "stale"))
    p, b = pusher.build(text_push(user, "怪时间", msg_id()))
    cases.append(("superscript digit timestamp", {**p, "timestamp": "²"}, b, 403, "required"))
    cases.append(("5000-digit timestamp", {**p, "timestamp": "9" * 5000}, b, 403, "required"))
    p, b = pusher.build(text_push(user, "坏格式", msg_id()))
    cases.append(("malformed body", p, b[: len(b) // 2], 400, "not valid"))
    other = WeChatPusher(pusher.url, token=TOKEN, appid=APPID, fmt="xml" if pusher.fmt == "json" else "json",
                         aes_key=pusher.aes_key)
    p, b = other.build(text_push(user, "格式不符", msg_id()))
    cases.append(("body in the other format", p, b, 400, f"WECHAT_MSG_FORMAT={pusher.fmt}"))
    if pusher.crypto is None:
        return cases
    p, b = pusher.build(text_push(user, "篡改", msg_id()))
    encrypt = re.search(rb"[A-Za-z0-9+/=]{60,}", b).group(0)  # type: ignore[union-attr]
    changed = encrypt[:20] + (b"A" if encrypt[20:21] != b"A" else b"B") + encrypt[21:]
    flipped = b.replace(encrypt, changed)
    cases.append(("tampered Encrypt", p, flipped, 403, "msg_signature mismatch"))
    p, b = pusher.build(text_push(user, "只有signature", msg_id()), sign_as="signature_only")
    cases.append(("signature where msg_signature is required", p, b, 403, "msg_signature is required"))
    p, b = pusher.build(text_push(user, "别的小程序", msg_id()), appid="wx-other-appid")
    cases.append(("wrong appid", p, b, 403, "another appid"))
    plain = WeChatPusher(pusher.url, token=TOKEN, appid=APPID, fmt=pusher.fmt)
    p, b = plain.build(text_push(user, "明文", msg_id()))
    cases.append(("plain push to a safe-mode desk", p, b, 400, "Encrypt"))
    return cases


async def test_bad_pushes_are_rejected_and_reach_nothing(
        pusher: WeChatPusher, fake: FakeWeChat, bot: SlowRasa, desk_ctx: Any) -> None:
    user = openid()
    for what, params, body, status, reason in _rejections(pusher, user):
        resp = pusher.send(params, body)
        assert (resp.status_code, reason in resp.text) == (status, True), f"{what}: {resp.status_code} {resp.text}"
    # A valid push from the same citizen afterwards is processed normally (per-citizen order),
    # so by the time its reply is out, anything let through before it would show up too.
    pusher.push(text_push(user, "有效消息", msg_id()))
    wait_for(lambda: fake.texts_to(user), timeout=15, what="the valid message's reply")
    assert fake.texts_to(user) == ["您咨询的是：有效消息"]
    assert [m for m in bot.messages() if m in ("篡改", "旧消息", "坏格式", "格式不符", "只有signature",
                                               "别的小程序", "明文")] == []
    assert [m.text for m in await citizen_messages(desk_ctx, user) if m.sender == "citizen"] == ["有效消息"]


async def test_text_content_that_is_not_text_is_refused(
        pusher: WeChatPusher, fake: FakeWeChat, bot: SlowRasa, desk_ctx: Any) -> None:
    user = openid()
    bad: list[Any] = ([None, ["社保卡"], {"text": "社保卡"}, True] if pusher.fmt == "json"
                      else [RawXml("<b>社保卡</b>"), RawXml("<Text>社保卡</Text>")])
    for content in bad:
        resp = pusher.push({**text_push(user, "", msg_id()), "Content": content})
        assert resp.status_code == 400 and "Content must be a string" in resp.text, (content, resp.text)
    # A number is the citizen's digits (in XML every Content is text, so the same holds there).
    assert pusher.push({**text_push(user, "", msg_id()), "Content": 12345}).text == "success"
    wait_for(lambda: fake.texts_to(user), timeout=15, what="the reply to the number")
    assert fake.texts_to(user) == ["您咨询的是：12345"]
    stored = [m.text for m in await citizen_messages(desk_ctx, user) if m.sender == "citizen"]
    assert stored == ["12345"]  # nothing empty, nothing like "['社保卡']" or "True"


def test_xml_entity_attacks_are_refused(desks: dict, bot: SlowRasa) -> None:
    url = desks["get"]("xml", False)
    plain = WeChatPusher(url, token=TOKEN, appid=APPID, fmt="xml")
    p, _ = plain.build({})
    bombs = [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>oBomb000001</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xml><FromUserName>oBomb000001</FromUserName><MsgType>text</MsgType><Content>&e;</Content></xml>",
    ]
    for body in bombs:
        resp = plain.send(p, body)
        assert resp.status_code == 400 and "not valid XML" in resp.text
    assert not any("root:" in m or "aaaa" in m for m in bot.messages())


async def test_message_types(pusher: WeChatPusher, fake: FakeWeChat, bot: SlowRasa, desk_ctx: Any) -> None:
    user = openid()
    now = int(time.time())
    image = {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": now, "MsgType": "image",
             "PicUrl": "https://mmbiz.example/pic.jpg", "MediaId": "MEDIA_IMG_1", "MsgId": msg_id()}
    card = {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": now, "MsgType": "miniprogrampage",
            "Title": "公积金提取", "AppId": "wxappcard", "PagePath": "pages/gjj/index", "ThumbUrl": "https://t/x.jpg",
            "ThumbMediaId": "THUMB1", "MsgId": msg_id()}
    voice = {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": now, "MsgType": "voice",
             "MediaId": "MEDIA_VOICE", "Format": "amr", "MsgId": msg_id()}
    for push in (image, card, voice):
        resp = pusher.push(push)
        assert resp.status_code == 200 and resp.text == "success"
    wait_for(lambda: sum(t.count("只能阅读文字") for t in fake.texts_to(user)) >= 3, timeout=15,
             what="three polite notes (replies of one moment may share a WeChat message)")
    assert all("转人工" in t for t in fake.texts_to(user))  # how to reach someone who can look at it
    stored = [m for m in await citizen_messages(desk_ctx, user) if m.sender == "citizen"]
    assert [m.kind for m in stored] == ["image", "card", "unknown"]
    assert stored[0].payload["attachment"] == {"type": "image", "url": "https://mmbiz.example/pic.jpg",
                                               "media_id": "MEDIA_IMG_1"}
    assert stored[1].payload["attachment"]["pagepath"] == "pages/gjj/index" and "公积金提取" in stored[1].text
    assert stored[2].payload["wechat_msg_type"] == "voice"
    assert not any(m.startswith("[") for m in bot.messages())  # none of them went to the bot


async def test_enter_session_greets_once(pusher: WeChatPusher, fake: FakeWeChat, desk_ctx: Any) -> None:
    user = openid()
    now = int(time.time())

    def enter(at: int) -> dict[str, Any]:
        return {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": at, "MsgType": "event",
                "Event": "user_enter_tempsession", "SessionFrom": "service-hall"}

    for event in (enter(now), enter(now), enter(now + 1)):  # a retry, then the citizen enters again
        assert pusher.push(event).text == "success"
    wait_for(lambda: fake.texts_to(user), timeout=15, what="the greeting")
    stored = await until(lambda: citizen_messages(desk_ctx, user),
                         lambda ms: len([m for m in ms if m.kind == "event"]) == 2, what="both events stored")
    assert [m.payload.get("event") for m in stored if m.sender == "citizen"] == ["user_enter_tempsession"] * 2
    greetings = [t for t in fake.texts_to(user) if "欢迎" in t]
    assert len(greetings) == 1 and "1. 转人工客服" in greetings[0]
    # The citizen answers the greeting's option with a digit: that is the handoff button.
    pusher.push(text_push(user, "1", msg_id()))
    wait_for(lambda: any("受理编号" in t for t in fake.texts_to(user)), timeout=15, what="the handoff notice")


def test_duplicate_push_processed_once(pusher: WeChatPusher, fake: FakeWeChat, bot: SlowRasa) -> None:
    user = openid()
    params, body = pusher.build(text_push(user, f"重复推送{user[-6:]}", msg_id()))
    for _ in range(3):
        assert pusher.send(params, body).text == "success"
    wait_for(lambda: fake.texts_to(user), timeout=15, what="the reply")
    assert bot.messages().count(f"重复推送{user[-6:]}") == 1
    assert len(fake.texts_to(user)) == 1
