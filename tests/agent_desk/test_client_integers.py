"""Every integer a client sends (ids in URLs, paging and read marks, the widget's history
bounds, a rating's score) is checked before the database sees it: a number past PostgreSQL's
integer range, a negative one, a fraction, a bool or a word gets a Chinese 400/404 or a clear
refusal, never a 500 and never a socket.io call left unanswered. A real desk process on the
real PostgreSQL and Redis (bot unreachable)."""
from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agent_desk.models import Message
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage
from tests.agent_desk import capture
from tests.agent_desk.desk_process import plain_desk, seed_case  # noqa: F401  (fixture)
from tests.channels.test_web_socket import connect

# As they arrive in a URL or a query string.
BAD_TEXT = [str(10**30), str(2**31), str(2**63), "-1", "1.5", "abc", "true", "0x10", "１２", "1e3"]
# As they arrive in a JSON body or a socket.io event.
BAD_JSON: list[Any] = [10**30, 2**31, 2**63, -1, 1.5, float("inf"), "abc", "-5", True, [1], {"id": 1}]


def _chinese(r: httpx.Response) -> str:
    error = str(r.json()["error"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error), r.text
    return error


async def test_ids_in_urls_are_404_and_counts_are_400(plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="整数检查")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    manager = plain_desk.headers("manager", "manager-demo-2026")
    async with httpx.AsyncClient(base_url=plain_desk.url, timeout=30) as api:
        assert (await api.post(f"/api/cases/{case.id}/accept", headers=agent)).status_code == 200
        for bad in BAD_TEXT:
            id_routes = [("GET", f"/api/cases/{bad}", agent, None),
                         ("GET", f"/api/cases/{bad}/messages", agent, None),
                         ("POST", f"/api/cases/{bad}/accept", agent, None),
                         ("POST", f"/api/cases/{bad}/messages", agent, {"text": "好"}),
                         ("POST", f"/api/cases/{bad}/read", agent, {"up_to": 1}),
                         ("POST", f"/api/cases/{bad}/typing", agent, None),
                         ("POST", f"/api/cases/{bad}/close", agent, {}),
                         ("GET", f"/api/cases/{bad}/channel-info", agent, None),
                         ("POST", f"/api/ratings/{bad}/rectification", manager, {"note": "已整改"}),
                         ("POST", f"/api/staff/{bad}/disable", manager, None),
                         ("POST", f"/api/staff/{bad}/enable", manager, None),
                         ("POST", f"/api/staff/{bad}/unlock", manager, None)]
            for method, path, who, body in id_routes:
                r = await api.request(method, path, headers=who, json=body)
                assert r.status_code == 404, (method, path, r.status_code, r.text)
                assert _chinese(r).endswith("不存在")
            count_params = [(f"/api/cases/{case.id}/messages", {"after": bad}, agent),
                            ("/api/reports/cases", {"limit": bad}, manager),
                            ("/api/reports/cases", {"before": bad}, manager),
                            ("/api/ratings/", {"limit": bad}, manager),
                            ("/api/ratings/", {"before": bad}, manager)]
            for path, params, who in count_params:
                r = await api.get(path, params=params, headers=who)
                assert r.status_code == 400, (path, params, r.status_code, r.text)
                assert "非负整数" in _chinese(r)
        for bad_json in BAD_JSON:
            raw = json.dumps({"up_to": bad_json}, allow_nan=True)  # infinity as JS never sends it, but may
            r = await api.post(f"/api/cases/{case.id}/read", content=raw, headers=agent)
            assert r.status_code == 400 and "非负整数" in _chinese(r), (bad_json, r.text)
        # The service API takes a tracking number and a citizen id as text: out of range is just unknown.
        token = {"Authorization": f"Bearer {desk_ctx.settings.service_token}"}
        for path, params in ((f"/api/internal/cases/SL20260101-{10**30}", {}),
                             (f"/api/internal/cases/{case.tracking_no}", {"citizen_id": str(10**30)})):
            r = await api.get(path, params=params, headers=token)
            assert r.status_code == 404 and _chinese(r), r.text
        # In range, all of them still work.
        transcript = await api.get(f"/api/cases/{case.id}/messages", params={"after": "0"}, headers=agent)
        assert transcript.status_code == 200
        assert (await api.get("/api/ratings/", params={"limit": "5", "before": str(2**31 - 1)},
                              headers=manager)).status_code == 200


async def test_history_bounds_out_of_range_are_answered_not_left_hanging(plain_desk) -> None:  # noqa: F811
    c = await connect(plain_desk.url)
    try:
        ack = await c.say("我想问居住证")
        assert ack["ok"], ack
        for name in ("after_id", "before_id"):
            for bad in BAD_JSON:
                got = await c.sio.call("history_request", {name: bad}, timeout=10)
                assert got == {"ok": False, "error": f"{name} 应为不大于 2147483647 的非负整数"}, (name, bad, got)
        # The largest id there can be and a missing bound are fine: nothing after it, the latest page.
        top = await c.sio.call("history_request", {"after_id": 2**31 - 1}, timeout=10)
        assert top["ok"] and all(m["id"] <= 2**31 - 1 for m in top["messages"])
        latest = await c.sio.call("history_request", {"after_id": None}, timeout=10)
        assert latest["ok"] and ack["message_id"] in [m["id"] for m in latest["messages"]]
        assert (await c.sio.call("history_request", {"after_id": str(ack["message_id"])}, timeout=10))["ok"]
    finally:
        await c.sio.disconnect()


@pytest.mark.parametrize("payload", ['/rate{"score": 1e400}', '/rate{"score": true}', '/rate{"score": 4.5}',
                                     '/rate{"score": -1e400}', '/rate{"score": ' + "[" * 5000 + "]" * 5000 + "}"])
async def test_a_rating_with_an_impossible_score_is_refused_politely(desk_ctx, payload: str) -> None:
    outbox = capture.install()
    cid = f"int-rate-{uuid.uuid4().hex[:8]}"
    result = await handle_inbound(desk_ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                           text=payload))
    refused = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_rejected")
    assert "评价未能识别" in refused.text
    async with desk_ctx.sessions() as session:
        stored = (await session.execute(select(Message.text).where(Message.id == result.message_id))).scalar_one()
    assert stored == payload  # kept as sent, like every citizen message
