"""The web channel over a real socket.io connection (python-socketio client) to a real desk
process: Rasa protocol, identity, history/resume, ordering, dedupe, limits and origin check."""
from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.support import services


@dataclass
class Desk:
    url: str
    log: Path


def _start(pg_url: str, redis_url: str, service_token: str, *, bot_url: str | None = None,
           extra: dict[str, str] | None = None) -> tuple[Desk, services.Proc]:
    port = services.free_port()
    env = services.desk_env(database_url=pg_url, redis_url=redis_url, port=port,
                            bot_url=bot_url or f"http://127.0.0.1:{services.free_port()}",
                            prefix=f"desk-webch-{uuid.uuid4().hex[:8]}", service_token=service_token, extra=extra)
    proc = services.start_desk(env, port, name="desk-webch")
    return Desk(url=f"http://127.0.0.1:{port}", log=proc.log), proc


@pytest.fixture(scope="module")
def web_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[Desk]:
    """Bot unreachable: every question is handed to a person (no bot replies to wait for)."""
    desk, proc = _start(pg_url, redis_url, service_token)
    yield desk
    proc.stop()


@pytest.fixture(scope="module")
def limited_desk(pg_url: str, redis_url: str, service_token: str) -> Iterator[Desk]:
    desk, proc = _start(pg_url, redis_url, service_token, extra={
        "DESK_WEB_RATE_CITIZEN": "3/60", "DESK_WEB_RATE_IP": "5/60",
        "DESK_ALLOWED_ORIGINS": "https://www.example.gov.cn"})
    yield desk
    proc.stop()


@dataclass
class Citizen:
    """A python-socketio client speaking the widget's side of the protocol."""

    sio: socketio.AsyncClient
    events: list[tuple[str, Any]] = field(default_factory=list)
    session_id: str | None = None
    token: str | None = None

    def bot(self) -> list[dict[str, Any]]:
        return [d for e, d in self.events if e == "bot_uttered"]

    async def wait(self, predicate, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events: {self.events[-6:]}")
            await asyncio.sleep(0.02)

    async def say(self, text: str, message_id: str | None = None) -> dict[str, Any]:
        return await self.sio.call("user_uttered", {"message": text, "session_id": self.session_id,
                                                     "message_id": message_id or uuid.uuid4().hex}, timeout=30)


async def connect(url: str, *, token: str | None = "", session_id: str | None = None,
                  headers: dict[str, str] | None = None) -> Citizen:
    client = socketio.AsyncClient(reconnection=False)
    c = Citizen(sio=client)
    for name in ("bot_uttered", "session_confirm", "session_identity", "citizen_message", "read_receipt"):
        client.on(name, (lambda n: lambda data=None: c.events.append((n, data)))(name))
    await client.connect(url, transports=["websocket"], headers=headers or {})
    request: dict[str, Any] = {"session_id": session_id}
    if token is not None:
        request["citizen_token"] = token
    await client.emit("session_request", request)
    await c.wait(lambda: any(e == "session_confirm" for e, _ in c.events))
    c.session_id = next(d for e, d in c.events if e == "session_confirm")
    c.token = next((d["citizen_token"] for e, d in c.events if e == "session_identity"), token or None)
    return c


async def test_plain_rasa_session_is_kept(web_desk: Desk) -> None:
    sid = uuid.uuid4().hex
    c = await connect(web_desk.url, token=None, session_id=sid)
    try:
        assert c.session_id == sid
        ack = await c.say("你好")
        assert ack["ok"] and not ack["duplicate"]
        await c.wait(lambda: len(c.bot()) >= 2)
        assert all(isinstance(b["metadata"]["message_id"], int) for b in c.bot())
        assert {b["metadata"]["sender"] for b in c.bot()} == {"system"}
    finally:
        await c.sio.disconnect()


async def test_citizen_token_identity_and_forgery(web_desk: Desk) -> None:
    a = await connect(web_desk.url)
    assert a.session_id and a.session_id.startswith("cz:") and a.token
    await a.sio.disconnect()
    again = await connect(web_desk.url, token=a.token)
    assert again.session_id == a.session_id
    await again.sio.disconnect()
    # A tampered token does not give that identity; nor can the id be claimed as a plain session id.
    forged = await connect(web_desk.url, token=a.token[:-2] + ("AA" if not a.token.endswith("AA") else "BB"))
    assert forged.session_id != a.session_id
    await forged.sio.disconnect()
    claim = await connect(web_desk.url, token=None, session_id=a.session_id)
    assert claim.session_id != a.session_id
    await claim.sio.disconnect()


async def test_dedupe_same_client_message_id(web_desk: Desk) -> None:
    c = await connect(web_desk.url)
    try:
        first = await c.say("我想办理居住证", message_id="dup-1")
        second = await c.say("我想办理居住证", message_id="dup-1")
        assert first["ok"] and not first["duplicate"]
        assert second["duplicate"] and second["message_id"] == first["message_id"]
        history = await c.sio.call("history_request", {"after_id": 0})
        assert [m["text"] for m in history["messages"]].count("我想办理居住证") == 1
    finally:
        await c.sio.disconnect()


async def test_history_resume_after_id_and_two_tabs(web_desk: Desk) -> None:
    tab1 = await connect(web_desk.url)
    tab2 = await connect(web_desk.url, token=tab1.token)
    try:
        assert tab2.session_id == tab1.session_id
        ack = await tab1.say("第一个问题")
        await tab2.wait(lambda: any(e == "citizen_message" and d["id"] == ack["message_id"] for e, d in tab2.events))
        await tab2.wait(lambda: any(b["metadata"].get("event") == "queued" for b in tab2.bot()))
        full = await tab2.sio.call("history_request", {"after_id": 0})
        ids = [m["id"] for m in full["messages"]]
        assert ids == sorted(ids) and ack["message_id"] in ids
        assert full["state"]["status"] == "queued" and full["state"]["queue_position"] >= 1
        assert {m["conversation_id"] for m in full["messages"]} == {full["state"]["conversation_id"]}
        later = await tab1.say("第二个问题")
        resumed = await tab2.sio.call("history_request", {"after_id": ack["message_id"]})
        after = [m["id"] for m in resumed["messages"] if m["id"] > ack["message_id"]]
        assert later["message_id"] in after and after == sorted(after)
        older = await tab2.sio.call("history_request", {"before_id": later["message_id"]})
        assert older["messages"] and all(m["id"] < later["message_id"] for m in older["messages"])
    finally:
        await tab1.sio.disconnect()
        await tab2.sio.disconnect()


async def test_transfer_code_and_dev_phone_verification(web_desk: Desk) -> None:
    first = await connect(web_desk.url)
    await first.say("换设备前的问题")
    code = await first.sio.call("transfer_code_request", {})
    assert code["ok"] and re.fullmatch(r"\d{6}", code["code"])
    second = await connect(web_desk.url)
    try:
        redeemed = await second.sio.call("transfer_code_redeem", {"code": code["code"]})
        assert redeemed["ok"] and redeemed["session_id"] == first.session_id
        history = await second.sio.call("history_request", {"after_id": 0})
        assert "换设备前的问题" in [m["text"] for m in history["messages"]]
        assert not (await second.sio.call("transfer_code_redeem", {"code": code["code"]}))["ok"]

        phone = "13912345678"
        sent = await first.sio.call("phone_code_request", {"phone": phone})
        assert sent["ok"] and sent["phone"] == "139****5678"
        line = next(json.loads(x) for x in reversed(web_desk.log.read_text().splitlines())
                    if "dev SMS verification code" in x)
        assert phone not in web_desk.log.read_text()
        wrong = "000000" if line["code"] != "000000" else "111111"
        bad = await first.sio.call("phone_verify", {"phone": phone, "code": wrong})
        assert not bad["ok"]
        ok = await first.sio.call("phone_verify", {"phone": phone, "code": line["code"]})
        assert ok["ok"] and ok["session_id"] == first.session_id
        # Another device verifying the same phone gets the identity bound first.
        third = await connect(web_desk.url)
        await third.sio.call("phone_code_request", {"phone": phone})
        line = next(json.loads(x) for x in reversed(web_desk.log.read_text().splitlines())
                    if "dev SMS verification code" in x)
        got = await third.sio.call("phone_verify", {"phone": phone, "code": line["code"]})
        assert got["session_id"] == first.session_id
        await third.sio.disconnect()
    finally:
        await first.sio.disconnect()
        await second.sio.disconnect()


async def test_message_size_limit(web_desk: Desk) -> None:
    c = await connect(web_desk.url)
    try:
        ack = await c.say("长" * 2001)
        assert ack == {"ok": False, "error": "too_large", "max_chars": 2000}
        await c.wait(lambda: any(b["metadata"].get("event") == "too_large" for b in c.bot()))
        history = await c.sio.call("history_request", {"after_id": 0})
        assert history["messages"] == []
    finally:
        await c.sio.disconnect()


async def test_rate_limits_per_citizen_and_per_ip(limited_desk: Desk) -> None:
    a = await connect(limited_desk.url)
    try:
        acks = [await a.say(f"问题{i}") for i in range(4)]
        assert [x["ok"] for x in acks] == [True, True, True, False]
        assert acks[3]["error"] == "rate_limited" and acks[3]["retry_after"] >= 1
        await a.wait(lambda: any(b["metadata"].get("event") == "rate_limited" for b in a.bot()))
        polite = next(b["text"] for b in a.bot() if b["metadata"].get("event") == "rate_limited")
        assert "请" in polite and "秒后再试" in polite
        # Same IP, another citizen: a's three accepted messages used 3 of the IP's 5 per minute.
        b = await connect(limited_desk.url)
        got = [await b.say(f"另一位市民{i}") for i in range(3)]
        assert [x["ok"] for x in got] == [True, True, False] and got[2]["error"] == "rate_limited"
        await b.sio.disconnect()
    finally:
        await a.sio.disconnect()


async def test_origin_check(limited_desk: Desk) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(limited_desk.url, headers={"Origin": "https://evil.example.com"})
    ok = await connect(limited_desk.url, headers={"Origin": "https://www.example.gov.cn"})
    await ok.sio.disconnect()
    # Listing an embedding site must not lock out the desk's own pages (/widget, /agent).
    own = await connect(limited_desk.url, headers={"Origin": limited_desk.url})
    await own.sio.disconnect()


@pytest.mark.e2e
@pytest.mark.timeout(900)  # the first user of desk_server may train and start Rasa
async def test_two_messages_50ms_apart_each_get_their_own_reply(desk_server) -> None:  # type: ignore[no-untyped-def]
    c = await connect(desk_server.url)
    try:
        questions = ["社保卡丢了怎么补办", "公积金怎么提取"]
        first = asyncio.ensure_future(c.say(questions[0]))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(c.say(questions[1]))
        a1, a2 = await first, await second
        assert a1["ok"] and a2["ok"] and a1["message_id"] < a2["message_id"]
        history = (await c.sio.call("history_request", {"after_id": 0}))["messages"]
        order = [(m["sender"], m["text"], m["metadata"].get("topic")) for m in history]
        i1 = next(i for i, m in enumerate(history) if m["id"] == a1["message_id"])
        i2 = next(i for i, m in enumerate(history) if m["id"] == a2["message_id"])
        replies1 = [m for m in history[i1 + 1:i2] if m["sender"] != "citizen"]
        replies2 = [m for m in history[i2 + 1:] if m["sender"] != "citizen"]
        assert replies1 and replies2, order
        assert any(m["metadata"].get("topic") == "shebao_ka" for m in replies1), order
        assert any(m["metadata"].get("topic") == "gjj_tiqu" for m in replies2), order
        live = [b["metadata"]["message_id"] for b in c.bot()]
        assert live == sorted(live) and len(live) == len(set(live))
    finally:
        await c.sio.disconnect()
