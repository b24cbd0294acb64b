"""An agent's message sent twice with the same client_id (a retried request) is stored once and
reaches the citizen once; the retry is answered with the message stored the first time.
Real PostgreSQL and Redis; the HTTP part through a real desk process."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from agent_desk.models import Case, Message
from agent_desk.services.agent_messages import send_agent_message
from agent_desk.services.cases import accept_case, close_case
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage
from tests.agent_desk import capture
from tests.agent_desk.desk_process import plain_desk, seed_case  # noqa: F401  (fixture)
from tests.agent_desk.staff import make_agent


@pytest.fixture
def outbox() -> capture.Outbox:
    return capture.install()


async def _assigned_case(ctx, outbox: capture.Outbox, name: str) -> tuple[str, Case, object]:  # type: ignore[no-untyped-def]
    cid = f"agent-msg-{uuid.uuid4().hex[:10]}"
    res = await handle_inbound(ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                   text="/human_handoff"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    async with ctx.sessions() as session:
        case = (await session.execute(select(Case).where(Case.conversation_id == res.conversation_id))).scalar_one()
    agent = await make_agent(ctx, name)
    await accept_case(ctx, case_id=case.id, agent=agent)
    return cid, case, agent


async def _stored(ctx, case: Case, text: str) -> int:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        return int((await session.execute(select(func.count(Message.id)).where(
            Message.conversation_id == case.conversation_id, Message.text == text))).scalar_one())


async def test_a_retried_agent_message_is_stored_and_sent_once(desk_ctx, outbox) -> None:
    cid, case, agent = await _assigned_case(desk_ctx, outbox, "重发坐席")
    first = await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="请提供身份证复印件", client_id="c-1")
    again = await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="请提供身份证复印件", client_id="c-1")
    assert not first.duplicate and again.duplicate
    assert again.message["id"] == first.message["id"] and again.message["text"] == "请提供身份证复印件"
    assert await _stored(desk_ctx, case, "请提供身份证复印件") == 1
    assert [o.text for o in outbox.by_citizen[cid] if o.sender == "agent"] == ["请提供身份证复印件"]
    # A private note is deduplicated the same way; another client id is another message.
    note = await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="备注", private=True, client_id="n")
    assert (await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="备注", private=True,
                                     client_id="n")).message["id"] == note.message["id"]
    other = await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="请提供身份证复印件", client_id="c-2")
    assert not other.duplicate and await _stored(desk_ctx, case, "请提供身份证复印件") == 2
    # A retry that arrives after the case was closed still gets its answer, not an error.
    await close_case(desk_ctx, case_id=case.id, agent=agent)
    late = await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="请提供身份证复印件", client_id="c-2")
    assert late.duplicate and late.message["id"] == other.message["id"]


async def test_simultaneous_retries_store_and_send_one_message(desk_ctx, outbox) -> None:
    cid, case, agent = await _assigned_case(desk_ctx, outbox, "并发坐席")
    results = await asyncio.gather(*(send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="同时到达",
                                                        client_id="same") for _ in range(4)))
    assert len({r.message["id"] for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert await _stored(desk_ctx, case, "同时到达") == 1
    assert [o.text for o in outbox.by_citizen[cid] if o.sender == "agent"] == ["同时到达"]


async def test_the_api_answers_a_repeated_client_id_with_the_stored_message(plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="周先生")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    async with httpx.AsyncClient(base_url=plain_desk.url, timeout=30, headers=agent) as api:
        assert (await api.post(f"/api/cases/{case.id}/accept")).status_code == 200
        body = {"text": "您好，材料已收到", "client_id": "ws-1"}
        first = await api.post(f"/api/cases/{case.id}/messages", json=body)
        assert first.status_code == 201, first.text
        again = await api.post(f"/api/cases/{case.id}/messages", json=body)
        assert again.status_code == 200, again.text
        assert again.json()["duplicate"] is True and first.json()["duplicate"] is False
        assert again.json()["message"]["id"] == first.json()["message"]["id"]
        both = await asyncio.gather(*(api.post(f"/api/cases/{case.id}/messages",
                                               json={"text": "同时重发", "client_id": "ws-2"}) for _ in range(3)))
        assert sorted(r.status_code for r in both) == [200, 200, 201]
        assert len({r.json()["message"]["id"] for r in both}) == 1
        transcript = (await api.get(f"/api/cases/{case.id}/messages")).json()["messages"]
    assert [m["text"] for m in transcript if m["sender"] == "agent"] == ["您好，材料已收到", "同时重发"]
