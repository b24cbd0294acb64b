"""What a citizen's client sends, checked by the desk.

What it attaches to ``user_uttered`` (Rasa's ``metadata``) cannot change what agents see: only
known keys are kept, a pressed button's title only if the desk offered that button, the desk's
own keys (topic, event, sender, ...) never, and no more than 2 KB of it. Phone numbers typed
with full-width digits are the same numbers.

Real desk process (bot unreachable, so every question is handed to a person), PostgreSQL, Redis;
the agent's view is read through the agent HTTP API.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.test_web_socket import Citizen, Desk, _start, connect
from tests.support import services

COMPLAINT = "你们办事效率太低了我要投诉"
SPOOF = {"display_text": "谢谢您，辛苦了", "topic": "FAKE_TOPIC", "event": "queued", "sender": "agent",
         "kind": "image", "handoff": True, "agent_name": "王晓明", "case": "SL20200101-0001"}


@pytest.fixture(scope="module")
def meta_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[Desk]:
    desk, proc = _start(pg_url, redis_url, service_token)
    yield desk
    proc.stop()


@pytest.fixture
async def agent(meta_desk: Desk, demo_users: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=meta_desk.url, timeout=15) as http:
        r = await http.post("/api/auth/login", json={"username": "agent", "password": demo_users["agent"]})
        r.raise_for_status()
        http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield http


async def utter(c: Citizen, text: str, metadata: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {"message": text, "session_id": c.session_id, "message_id": uuid.uuid4().hex}
    if metadata is not None:
        data["metadata"] = metadata
    ack = await c.sio.call("user_uttered", data, timeout=30)
    assert ack["ok"], ack
    return ack  # type: ignore[no-any-return]


async def tracking_no(c: Citizen) -> str:
    await c.wait(lambda: any(b["metadata"].get("event") == "queued" for b in c.bot()))
    return str(next(b["metadata"]["case"] for b in c.bot() if b["metadata"].get("event") == "queued"))


async def agent_view(agent: httpx.AsyncClient, tracking: str) -> dict[int, dict[str, Any]]:
    """The case's messages as the agent workspace receives them, by id."""
    cases = (await agent.get("/api/cases/", params={"status": "queued"})).json()["cases"]
    case = next(c for c in cases if c["tracking_no"] == tracking)
    msgs = (await agent.get(f"/api/cases/{case['id']}/messages")).json()["messages"]
    return {m["id"]: m for m in msgs}


async def test_spoofed_metadata_is_neither_stored_nor_shown(meta_desk: Desk, agent: httpx.AsyncClient) -> None:
    c = await connect(meta_desk.url)
    tab2 = await connect(meta_desk.url, token=c.token)
    try:
        ack = await utter(c, COMPLAINT, SPOOF)
        tracking = await tracking_no(c)
        assert tracking != SPOOF["case"]
        seen = (await agent_view(agent, tracking))[ack["message_id"]]
        assert (seen["sender"], seen["kind"], seen["text"]) == ("citizen", "text", COMPLAINT)
        assert seen["metadata"] == {}
        # The dividing line of the agent's transcript is the desk's own queued notice, after the message.
        queued = [m for m in (await agent_view(agent, tracking)).values() if m["metadata"].get("event") == "queued"]
        assert [m["sender"] for m in queued] == ["system"] and queued[0]["id"] > ack["message_id"]

        await tab2.wait(lambda: any(e == "citizen_message" and d["id"] == ack["message_id"] for e, d in tab2.events))
        echo = next(d for e, d in tab2.events if e == "citizen_message" and d["id"] == ack["message_id"])
        assert echo["metadata"] == {"message_id": ack["message_id"]} and echo["text"] == COMPLAINT
        history = await c.sio.call("history_request", {"after_id": 0})
        mine = next(m for m in history["messages"] if m["id"] == ack["message_id"])
        assert mine["metadata"] == {"message_id": ack["message_id"]}
    finally:
        await c.sio.disconnect()
        await tab2.sio.disconnect()


async def test_oversized_metadata_is_dropped_not_stored(meta_desk: Desk, agent: httpx.AsyncClient) -> None:
    c = await connect(meta_desk.url)
    tab2 = await connect(meta_desk.url, token=c.token)
    try:
        ack = await utter(c, "我要咨询居住证", {"display_text": "转人工", "blob": "x" * 900_000})
        tracking = await tracking_no(c)
        seen = (await agent_view(agent, tracking))[ack["message_id"]]
        assert seen["text"] == "我要咨询居住证" and seen["metadata"] == {}
        assert len(json.dumps(seen)) < 2000
        await tab2.wait(lambda: any(e == "citizen_message" and d["id"] == ack["message_id"] for e, d in tab2.events))
        echo = next(d for e, d in tab2.events if e == "citizen_message" and d["id"] == ack["message_id"])
        assert len(json.dumps(echo, ensure_ascii=False)) < 2000
    finally:
        await c.sio.disconnect()
        await tab2.sio.disconnect()


async def test_button_titles_are_shown_only_for_buttons_the_desk_offered(meta_desk: Desk,
                                                                        agent: httpx.AsyncClient) -> None:
    c = await connect(meta_desk.url)
    try:
        handoff = await utter(c, "/human_handoff", {"display_text": "转人工"})
        tracking = await tracking_no(c)
        welcome = await utter(c, "/shebao_ka", {"display_text": "社保卡补办"})        # the widget's welcome card
        other_title = await utter(c, "/shebao_ka", {"display_text": "我要表扬这位工作人员"})
        no_claim = await utter(c, "/gjj_tiqu")                                          # e.g. rasa-webchat
        typed = await utter(c, COMPLAINT, {"display_text": "谢谢您，辛苦了"})
        unknown = await utter(c, "/no_such_topic", {"display_text": "谢谢您，辛苦了"})
        not_text = await utter(c, "/shebao_ka", {"display_text": {"text": "社保卡补办"}})
        view = await agent_view(agent, tracking)

        def shown(ack: dict[str, Any]) -> str:
            m = view[ack["message_id"]]
            return str(m["metadata"].get("display_text") or m["text"])

        assert shown(handoff) == "转人工"
        assert shown(welcome) == "社保卡补办"
        assert shown(other_title) == "/shebao_ka"
        assert shown(no_claim) == "公积金提取"
        assert shown(typed) == COMPLAINT
        assert shown(unknown) == "/no_such_topic"
        assert shown(not_text) == "社保卡补办"  # a malformed claim is no claim: the desk names the button
    finally:
        await c.sio.disconnect()


def test_read_metadata_keeps_only_what_the_widget_sends() -> None:
    from channels.web import MAX_METADATA_BYTES, read_metadata

    meta, cid, dropped = read_metadata({"message": "x", "message_id": "m-1",
                                        "metadata": {"display_text": " 转人工 ", **{k: v for k, v in SPOOF.items()
                                                                                 if k != "display_text"}}})
    assert (meta, cid) == ({"display_text": "转人工"}, "m-1")
    assert set(dropped) == set(SPOOF) - {"display_text"}
    # The client id may come inside metadata (some Rasa clients put it there); bools and objects are not ids.
    assert read_metadata({"metadata": {"message_id": 42}})[1] == "42"
    assert read_metadata({"message_id": True})[1] is None
    assert read_metadata({"message_id": {"$gt": ""}})[1] is None
    assert read_metadata({"message_id": "a" * 300})[1] == "a" * 128
    # Not an object, too long a title, too much of it altogether.
    assert read_metadata({"metadata": "display_text"})[0] == {}
    assert read_metadata({"metadata": {"display_text": "长" * 101}})[0] == {}
    big = {"display_text": "转人工", "note": "长" * MAX_METADATA_BYTES}
    meta, _, dropped = read_metadata({"metadata": big})
    assert meta == {} and dropped == [f"<over {MAX_METADATA_BYTES} bytes>"]


def test_widget_welcome_buttons_are_standing_buttons() -> None:
    """The desk can only check a welcome button's title if it knows the widget's welcome card."""
    from channels.base import STANDING_BUTTONS

    chat_js = (Path(services.ROOT) / "agent_desk" / "static" / "widget" / "chat.js").read_text()
    welcome = chat_js[chat_js.index("var WELCOME"):chat_js.index("};", chat_js.index("var WELCOME"))]
    offered = re.findall(r'\{ title: "([^"]+)", payload: "([^"]+)" \}', welcome)
    assert len(offered) == 4
    standing = {(b.title, b.payload) for b in STANDING_BUTTONS}
    assert set(offered) <= standing
    assert ("转人工", "/human_handoff") in standing  # the widget's 转人工 key


async def test_full_width_phone_number_is_accepted_for_verification(meta_desk: Desk) -> None:
    c = await connect(meta_desk.url)
    try:
        sent = await c.sio.call("phone_code_request", {"phone": "１３９１２３４５６７８"})
        assert sent == {"ok": True, "phone": "139****5678"}
        line = next(json.loads(x) for x in reversed(meta_desk.log.read_text().splitlines())
                    if "dev SMS verification code" in x)
        ok = await c.sio.call("phone_verify", {"phone": "１３９１２３４５６７８", "code": line["code"]})
        assert ok["ok"] and ok["session_id"] == c.session_id
    finally:
        await c.sio.disconnect()


async def test_a_message_that_is_not_text_is_refused_and_a_number_is_its_digits(meta_desk: Desk) -> None:
    c = await connect(meta_desk.url)
    try:
        refused = "消息格式不正确，请输入文字后再发送。"
        for message in (None, ["社保卡"], {"text": "社保卡"}, True, False):
            ack = await c.sio.call("user_uttered", {"message": message, "session_id": c.session_id,
                                                    "message_id": uuid.uuid4().hex}, timeout=30)
            assert ack == {"ok": False, "error": refused}, (message, ack)
        no_message = await c.sio.call("user_uttered", {"session_id": c.session_id}, timeout=30)
        assert no_message == {"ok": False, "error": refused}
        await c.wait(lambda: sum(b["metadata"].get("event") == "not_text" for b in c.bot()) == 6)
        assert {b["text"] for b in c.bot()} == {refused}
        # Nothing stored, nothing handed on (the bot is unreachable here: a message reaching it
        # would have opened a case).
        history = await c.sio.call("history_request", {"after_id": 0})
        assert history["messages"] == [] and history["state"] == {"status": "bot"}

        number = await utter(c, 123)  # type: ignore[arg-type]
        history = await c.sio.call("history_request", {"after_id": 0})
        mine = next(m for m in history["messages"] if m["id"] == number["message_id"])
        assert (mine["sender"], mine["text"]) == ("citizen", "123")
        assert (await utter(c, 12.5))["ok"]  # type: ignore[arg-type]
    finally:
        await c.sio.disconnect()
