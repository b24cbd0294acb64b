"""What a citizen reads back in their own history (the widget's history_request) against what
staff read: an agent's, the bot's or the desk's message reaches the citizen exactly as sent,
also after a reload; what the citizen typed is masked there as in every staff view.
Real PostgreSQL and Redis."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from agent_desk.models import Case, Citizen
from agent_desk.services.agent_messages import send_agent_message
from agent_desk.services.cases import accept_case
from agent_desk.services.citizen_history import citizen_history
from agent_desk.services.messages import serialize
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage
from tests.agent_desk import capture
from tests.agent_desk.staff import make_agent


@pytest.fixture
def outbox() -> capture.Outbox:
    return capture.install()


async def test_agent_numbers_reach_the_citizen_history_as_sent(desk_ctx, outbox) -> None:
    cid = f"hist-{uuid.uuid4().hex[:10]}"
    typed = "转人工，我的手机13812345678"
    res = await handle_inbound(desk_ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                        text=typed))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    async with desk_ctx.sessions() as session:
        case = (await session.execute(select(Case).where(Case.conversation_id == res.conversation_id))).scalar_one()
    agent = await make_agent(desk_ctx, "热线坐席")
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    said = ["请拨打社保专线 13912345678 咨询", "请联系街道经办人手机：139-1234-5678",
            "经办人身份证 110101199003071234 已登记"]
    for i, text in enumerate(said):
        await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text=text, client_id=f"c-{i}")
    async with desk_ctx.sessions() as session:
        citizen = (await session.execute(select(Citizen).where(Citizen.channel == capture.CHANNEL,
                                                               Citizen.external_id == cid))).scalar_one()
        items, _ = await citizen_history(session, citizen_id=citizen.id)
    texts = {m["sender"]: [] for m in items}
    for m in items:
        texts[m["sender"]].append(m["text"])
    assert texts["agent"] == said  # exactly as the live message, nothing masked
    assert all("****" not in t for t in texts.get("system", []) + texts.get("bot", []))
    # What the citizen typed stays masked in their history (a shared screen), as staff see it.
    mine = next(m for m in items if m["sender"] == "citizen")
    assert mine["text"] == "转人工，我的手机138****5678"
    # Staff views still mask the agent's numbers too.
    agent_items = [m for m in items if m["sender"] == "agent"]
    async with desk_ctx.sessions() as session:
        from agent_desk.models import Message
        stored = (await session.execute(select(Message).where(Message.id == agent_items[0]["id"]))).scalar_one()
    assert serialize(stored)["text"] == "请拨打社保专线 139****5678 咨询"
