"""Durable mini-program delivery with real desk processes: a desk killed (SIGKILL) in the middle
of sending a reply, started again, sends it once; two desks sweeping at the same time send each
left-behind message once; a message past WeChat's 48-hour window is marked undelivered and the
agent's live workspace is told; web-widget messages are not touched.

Real processes on PostgreSQL and Redis; no Rasa (the desk hands every question to a person and
says so); WeChat is FakeWeChat. The desks sweep every second and take over after 3 seconds
(WECHAT_RESEND_INTERVAL_S, WECHAT_RESEND_AFTER_S), so the tests wait seconds, not minutes.
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select, update

from agent_desk.models import Case, CaseStatus, ConversationStatus, Message, utcnow
from channels.base import OutboundMessage, Sender
from channels.miniprogram_outbound import EXPIRED_REASON
from tests.agent_desk import desk_process
from tests.agent_desk.desk_process import DeskProcess
from tests.agent_desk.staff import make_agent
from tests.agent_desk.workspace_socket import Workspace
from tests.support.fake_wechat import FakeWeChat, WeChatPusher, text_push
from tests.support.threaded_server import wait_for

TOKEN = "mp-recovery-token"
APPID = "wx-recovery-appid"
AGENT_PASSWORD = "agent-password-123"  # what tests/agent_desk/staff.make_agent gives new agents
T = TypeVar("T")


def start_desk(pg_url: str, redis_url: str, service_token: str, fake: FakeWeChat, *, prefix: str,
               name: str) -> DeskProcess:
    return desk_process.start(pg_url, redis_url, service_token, name=name, prefix=prefix, extra={
        "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_SECRET": fake.secret, "WECHAT_MSG_FORMAT": "json",
        "WECHAT_API_BASE": fake.url, "WECHAT_RESEND_AFTER_S": "3", "WECHAT_RESEND_INTERVAL_S": "1"})


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


async def outbound_of(ctx: Any, openid: str) -> list[Message]:
    from agent_desk.models import Citizen

    async with ctx.sessions() as session:
        return list((await session.execute(
            select(Message).join(Citizen, Citizen.id == Message.citizen_id)
            .where(Citizen.external_id == openid, Message.sender != "citizen").order_by(Message.id))).scalars())


async def left_behind(ctx: Any, texts: list[str], *, channel: str = "miniprogram", age: timedelta = timedelta(0),
                      agent_case: int | None = None) -> tuple[str, list[int]]:
    """Messages stored for a new citizen as the desk stores them (``age`` ago), never sent.
    With ``agent_case`` (an agent's user id) the citizen's case is assigned to that agent."""
    from agent_desk.services.cases import open_case
    from agent_desk.services.messages import store_message, store_outbound
    from agent_desk.services.router import get_or_create_citizen, open_conversation

    openid = f"oRec{uuid.uuid4().hex[:16]}"
    async with ctx.sessions() as session:
        citizen = await get_or_create_citizen(session, channel=channel, external_id=openid)
        conv = await open_conversation(session, citizen=citizen)
        await store_message(session, conversation=conv, sender="citizen", text="请问材料审核好了吗？")
        if agent_case is not None:
            case = await open_case(ctx, session, conversation=conv, reason="button")
            case.status, case.agent_id, case.assigned_at = CaseStatus.assigned, agent_case, utcnow()
            conv.status = ConversationStatus.assigned
        sender: Sender = "agent" if agent_case is not None else "bot"
        ids = [(await store_outbound(session, conversation=conv, out=OutboundMessage(sender=sender, text=t),
                                     agent_id=agent_case)).id for t in texts]
        await session.execute(update(Message).where(Message.id.in_(ids)).values(created_at=utcnow() - age))
        await session.commit()
    return openid, ids


def all_sent(ctx: Any, openid: str) -> Callable[[], Awaitable[list[Message] | None]]:
    async def check() -> list[Message] | None:
        msgs = await outbound_of(ctx, openid)
        return msgs if msgs and all(m.delivery == "sent" for m in msgs) else None
    return check


async def test_a_desk_killed_while_sending_sends_the_reply_once_after_it_starts_again(
        pg_url: str, redis_url: str, service_token: str, fake: FakeWeChat, desk_ctx: Any) -> None:
    prefix = f"desk-mp-recovery-{uuid.uuid4().hex[:8]}"
    first = start_desk(pg_url, redis_url, service_token, fake, prefix=prefix, name="desk-mp-killed")
    openid = f"oKill{uuid.uuid4().hex[:16]}"
    fake.stall_sends()  # the reply's send call hangs, as on a bad network; WeChat never sees it
    try:
        resp = WeChatPusher(first.url, token=TOKEN, appid=APPID, fmt="json").push(
            text_push(openid, "我要办理居住证", time.time_ns() % 10**18))
        assert (resp.status_code, resp.text) == (200, "success")
        wait_for(lambda: fake.stalled, timeout=30, what="the desk to be in the middle of sending the reply")
        os.killpg(first.proc.proc.pid, signal.SIGKILL)
        first.proc.proc.wait(10)
    finally:
        first.stop()
        fake.release_sends()
    stuck = await outbound_of(desk_ctx, openid)
    assert stuck and {m.delivery for m in stuck} <= {"pending", "claimed", "sending"}
    assert "sending" in {m.delivery for m in stuck}
    assert fake.sent_to(openid) == []

    again = start_desk(pg_url, redis_url, service_token, fake, prefix=prefix, name="desk-mp-restarted")
    try:
        sent = await eventually(all_sent(desk_ctx, openid), timeout=60, what="the reply sent after the restart")
    finally:
        again.stop()
    joined = "\n".join(fake.texts_to(openid))
    assert joined.count("智能客服暂时无法应答") == 1 and joined.count("受理编号") == 1
    assert joined.index("智能客服暂时无法应答") < joined.index("受理编号")  # in the order they were stored
    assert [m.id for m in sent] == [m.id for m in stuck]
    # The send call that was cut off was made again: at-least-once, and the log says so.
    assert "sending again messages whose earlier send was cut off" in again.log.read_text()


@pytest.fixture(scope="module")
def two_desks(pg_url: str, redis_url: str, service_token: str,
              fake: FakeWeChat) -> Iterator[tuple[DeskProcess, DeskProcess]]:
    prefix = f"desk-mp-sweep-{uuid.uuid4().hex[:8]}"
    desks = (start_desk(pg_url, redis_url, service_token, fake, prefix=prefix, name="desk-mp-sweep-a"),
             start_desk(pg_url, redis_url, service_token, fake, prefix=prefix, name="desk-mp-sweep-b"))
    yield desks
    for desk in desks:
        desk.stop()


async def test_two_desks_sweeping_at_once_send_each_message_once_and_leave_web_alone(
        two_desks: tuple[DeskProcess, DeskProcess], fake: FakeWeChat, desk_ctx: Any) -> None:
    fake.send_delay_s = 0.2  # slow sends: the two desks' sweeps overlap
    try:
        # Stored now, never handed to an outbox: both desks find them due at the same moment.
        left = [await left_behind(desk_ctx, [f"第{i}位市民的答复", f"第{i}位市民的补充"]) for i in range(6)]
        web_openid, web_ids = await left_behind(desk_ctx, ["网页端的答复"], channel="web", age=timedelta(hours=1))
        for i, (openid, _ids) in enumerate(left):
            await eventually(all_sent(desk_ctx, openid), timeout=60, what=f"citizen {i}'s messages sent")
    finally:
        fake.send_delay_s = 0.0
    for i, (openid, _ids) in enumerate(left):
        assert fake.texts_to(openid) == [f"第{i}位市民的答复\n\n第{i}位市民的补充"]
    web = await outbound_of(desk_ctx, web_openid)
    assert [(m.id, m.delivery, m.delivery_owner) for m in web] == [(web_ids[0], "stored", None)]
    assert fake.sent_to(web_openid) == []


async def test_an_expired_message_is_marked_undelivered_and_the_agent_is_told(
        two_desks: tuple[DeskProcess, DeskProcess], fake: FakeWeChat, desk_ctx: Any) -> None:
    desk = two_desks[0]
    agent = await make_agent(desk_ctx, "过期提醒坐席")
    async with httpx.AsyncClient(base_url=desk.url, timeout=30) as http:
        r = await http.post("/api/auth/login", json={"username": agent.username, "password": AGENT_PASSWORD})
        assert r.status_code == 200, r.text
        token = str(r.json()["token"])
    workspace = await Workspace("agent").open(desk.url, token)
    try:
        openid, ids = await left_behind(desk_ctx, ["您的材料已审核通过。"], age=timedelta(hours=49),
                                        agent_case=agent.id)
        told = await workspace.wait_until(lambda events: next(
            (d for e, d in events if e == "message_delivery" and d.get("message_id") == ids[0]), None), timeout=60)
    finally:
        await workspace.close()
    async with desk_ctx.sessions() as session:
        msg = await session.get(Message, ids[0])
        case = (await session.execute(select(Case).where(Case.conversation_id == msg.conversation_id))).scalar_one()
    assert (msg.delivery, msg.delivery_error) == ("undelivered", EXPIRED_REASON)
    assert told == {"case_id": case.id, "message_id": ids[0], "delivery": "undelivered",
                    "delivery_error": EXPIRED_REASON}
    assert "48小时" in told["delivery_error"]
    assert fake.attempts_to(openid) == []  # never offered to WeChat
