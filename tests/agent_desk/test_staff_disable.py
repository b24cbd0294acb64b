"""Disabling an agent who is serving citizens: their open cases go back to the queue at the
places their handoffs gave them, each citizen is told, and all of it is audited with the
disable. Real PostgreSQL and Redis, in process (the citizens' channel is recorded)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from agent_desk import queue
from agent_desk.models import AuditEntry, Case, CaseStatus, Conversation, ConversationStatus, Role
from agent_desk.services.agent_messages import send_agent_message
from agent_desk.services.auth import create_user
from agent_desk.services.cases import CaseError, accept_case, close_case
from agent_desk.services.router import handle_inbound
from agent_desk.services.staff import set_active
from channels.base import InboundMessage
from tests.agent_desk import capture
from tests.agent_desk.staff import make_agent


@pytest.fixture
def outbox() -> capture.Outbox:
    return capture.install()


async def hand_off(ctx, outbox: capture.Outbox) -> tuple[str, Case]:  # type: ignore[no-untyped-def]
    cid = f"disable-{uuid.uuid4().hex[:10]}"
    res = await handle_inbound(ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                   text="/human_handoff"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    async with ctx.sessions() as session:
        case = (await session.execute(select(Case).where(Case.conversation_id == res.conversation_id))).scalar_one()
    return cid, case


async def make_manager(ctx):  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        user = await create_user(session, username=f"mgr-{uuid.uuid4().hex[:6]}", display_name="值班主管",
                                 role=Role.manager, password="manager-password-123")
        await session.commit()
        return user


async def test_disabling_an_agent_puts_their_cases_back_in_the_queue(desk_ctx, outbox) -> None:
    (a, case_a), (b, case_b), (c, case_c) = [await hand_off(desk_ctx, outbox) for _ in range(3)]
    agent, colleague, manager = await make_agent(desk_ctx, "孙坐席"), await make_agent(desk_ctx, "周坐席"), \
        await make_manager(desk_ctx)
    await accept_case(desk_ctx, case_id=case_a.id, agent=agent)
    await accept_case(desk_ctx, case_id=case_c.id, agent=agent)
    await send_agent_message(desk_ctx, case_id=case_a.id, agent=agent, text="您好，我来为您办理")
    d, case_d = await hand_off(desk_ctx, outbox)  # handed off after all of them
    ours = {case_a.id, case_b.id, case_c.id, case_d.id}

    async def waiting() -> list[int]:  # the queue also holds cases other tests left waiting
        return [i for i in await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys) if i in ours]

    assert await waiting() == [case_b.id, case_d.id]

    user, requeued, _ = await set_active(desk_ctx, manager=manager, user_id=agent.id, active=False, ip="10.0.0.8")
    assert not user.active and requeued == [case_a.tracking_no, case_c.tracking_no]

    # Back in the queue in the order of their handoffs: ahead of the case handed off later.
    assert await waiting() == [case_a.id, case_b.id, case_c.id, case_d.id]
    async with desk_ctx.sessions() as session:
        for case in (case_a, case_c):
            row = await session.get(Case, case.id)
            conv = await session.get(Conversation, case.conversation_id)
            assert (row.status, row.agent_id, row.assigned_at) == (CaseStatus.queued, None, None)
            assert conv.status == ConversationStatus.queued
        entries = (await session.execute(select(AuditEntry).where(
            AuditEntry.actor_id == manager.id).order_by(AuditEntry.id))).scalars().all()
    assert [(e.action, e.target_id) for e in entries] == [
        ("case.requeue", case_a.tracking_no), ("case.requeue", case_c.tracking_no), ("staff.disable", agent.username)]
    assert entries[0].detail == {"reason": "agent_disabled", "agent": agent.username}
    assert entries[2].detail == {"requeued_cases": [case_a.tracking_no, case_c.tracking_no]}

    # Each of the two citizens is told, with their place; the others hear nothing new.
    told_a = await outbox.wait_for(a, lambda o: o.metadata.get("requeued"))
    told_c = await outbox.wait_for(c, lambda o: o.metadata.get("requeued"))
    place_a = await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=case_a.id)
    place_c = await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=case_c.id)
    assert place_a is not None and place_c is not None and place_c >= place_a + 2  # case_b waits between
    ahead = f"您前面还有 {place_a - 1} 位市民在等待，请稍候。" if place_a > 1 else "您是下一位，请稍候。"
    assert told_a.text == (f"为您服务的客服人员有变动，已为您重新排队（受理编号 {case_a.tracking_no}），"
                           f"将由其他客服继续为您服务。{ahead}")
    assert f"您前面还有 {place_c - 1} 位市民在等待" in told_c.text
    assert (told_c.metadata["event"], told_c.metadata["case"], told_c.metadata["queue_position"]) == \
        ("queued", case_c.tracking_no, place_c)
    assert not any(o.metadata.get("requeued") for o in outbox.by_citizen[b] + outbox.by_citizen[d])

    # Another agent takes the case up; the disabled one can no longer act on it.
    await accept_case(desk_ctx, case_id=case_a.id, agent=colleague)
    with pytest.raises(CaseError):
        await close_case(desk_ctx, case_id=case_c.id, agent=agent)

    # Disabling again (or an account with nothing open) puts nothing back twice.
    assert (await set_active(desk_ctx, manager=manager, user_id=agent.id, active=False, ip=""))[1] == []
    assert (await set_active(desk_ctx, manager=manager, user_id=agent.id, active=True, ip=""))[1] == []
    assert sum(bool(o.metadata.get("requeued")) for o in outbox.by_citizen[a]) == 1
