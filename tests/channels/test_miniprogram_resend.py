"""Mini-program messages a worker stored but never sent are sent by the resend sweep, once.

In-process DeskContexts on the real PostgreSQL and Redis; WeChat is FakeWeChat. Messages are
stored as the desk stores them and then dated back (or their claim is), which is what a worker
that died a while ago leaves behind. The same, with real processes killed and restarted, is in
test_miniprogram_recovery.py.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from channels import miniprogram, miniprogram_claims, miniprogram_outbound, miniprogram_resend, wechat_api
from channels.base import Button, OutboundMessage
from tests.support.fake_wechat import FakeWeChat
from tests.support.threaded_server import async_wait_for

LONG_AGO = timedelta(minutes=5)  # well past WECHAT_RESEND_AFTER_S (60 s here)


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wechat_api, "RETRY_DELAYS_S", (0.01, 0.02, 0.04))
    monkeypatch.setattr(miniprogram_outbound, "GATHER_S", 0.05)
    monkeypatch.setattr(miniprogram_outbound, "BUSY_WAIT_S", 0.05)


@pytest.fixture
def wx(desk_ctx, fake: FakeWeChat):  # type: ignore[no-untyped-def]
    desk_ctx.settings = replace(desk_ctx.settings, wechat_token="tok", wechat_appid=fake.appid,
                                wechat_secret=fake.secret, wechat_api_base=fake.url, wechat_resend_after_s=60)
    return desk_ctx


async def left_behind(ctx: Any, outs: list[OutboundMessage], *, age: timedelta = LONG_AGO,
                      channel: str = "miniprogram", openid: str = "") -> tuple[Any, list[int]]:
    """Messages stored for one citizen as the desk stores them, ``age`` ago, and never sent."""
    from agent_desk.models import Message, utcnow
    from agent_desk.services.messages import store_outbound
    from agent_desk.services.router import get_or_create_citizen, open_conversation

    openid = openid or f"oLeft{uuid.uuid4().hex[:16]}"
    async with ctx.sessions() as session:
        citizen = await get_or_create_citizen(session, channel=channel, external_id=openid)
        conv = await open_conversation(session, citizen=citizen)
        ids = [(await store_outbound(session, conversation=conv, out=o)).id for o in outs]
        await session.execute(update(Message).where(Message.id.in_(ids)).values(created_at=utcnow() - age))
        await session.commit()
    return citizen, ids


async def states(ctx: Any, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    from agent_desk.models import Message

    async with ctx.sessions() as session:
        rows = (await session.execute(select(Message.id, Message.delivery, Message.delivery_error)
                                      .where(Message.id.in_(ids)))).all()
    return {r[0]: (r[1], r[2]) for r in rows}


async def set_claim(ctx: Any, ids: list[int], *, delivery: str, age: timedelta) -> None:
    """As a worker leaves its claim: ``claimed`` or ``sending``, last renewed ``age`` ago."""
    from agent_desk.models import Message, utcnow

    async with ctx.sessions() as session:
        await session.execute(update(Message).where(Message.id.in_(ids)).values(
            delivery=delivery, delivery_owner="another-worker", delivery_at=utcnow() - age))
        await session.commit()


async def test_left_pending_is_sent_once_in_order_and_merged(wx, fake: FakeWeChat) -> None:
    outs = [OutboundMessage(sender="system", text="智能客服暂时无法应答，正在为您转接人工客服。"),
            OutboundMessage(sender="system", text="已为您转接人工客服，受理编号 SL20261208-0001。",
                            buttons=(Button("查询办理进度", "/case_status"),)),
            OutboundMessage(sender="agent", text="", attachment={"type": "image", "media_id": "MEDIA7"})]
    citizen, ids = await left_behind(wx, outs)
    assert {s for s, _ in (await states(wx, ids)).values()} == {"pending"}

    assert await miniprogram_resend.sweep(wx) >= 3
    sent = fake.sent_to(citizen.external_id)
    assert [m.msgtype for m in sent] == ["text", "image"]
    assert sent[0].text == ("智能客服暂时无法应答，正在为您转接人工客服。\n\n"
                            "已为您转接人工客服，受理编号 SL20261208-0001。\n1. 查询办理进度\n（请回复数字选择）")
    assert await states(wx, ids) == {mid: ("sent", None) for mid in ids}
    inbound = await miniprogram.to_inbound(wx, {"FromUserName": citizen.external_id, "MsgType": "text",
                                                "Content": "1", "MsgId": "1"})
    assert inbound.text == "/case_status"

    await miniprogram_resend.sweep(wx)  # a later sweep finds nothing left to do for this citizen
    assert len(fake.sent_to(citizen.external_id)) == 2


async def test_two_workers_sweeping_at_once_send_each_message_once(wx, fake: FakeWeChat) -> None:
    from agent_desk.app import close_context, open_context

    left = [await left_behind(wx, [OutboundMessage(sender="bot", text=f"第{i}位市民的答复"),
                                   OutboundMessage(sender="bot", text=f"第{i}位市民的补充")])
            for i in range(8)]
    other = await open_context(wx.settings, sio=wx.sio, keys=wx.keys)  # a second worker: own pools
    try:
        await asyncio.gather(miniprogram_resend.sweep(wx), miniprogram_resend.sweep(other),
                             miniprogram_resend.sweep(wx), miniprogram_resend.sweep(other))
    finally:
        await close_context(other)
    for i, (citizen, ids) in enumerate(left):
        assert fake.texts_to(citizen.external_id) == [f"第{i}位市民的答复\n\n第{i}位市民的补充"]
        assert await states(wx, ids) == {mid: ("sent", None) for mid in ids}


async def test_expired_message_is_undelivered_with_the_reason_and_not_sent(wx, fake: FakeWeChat) -> None:
    citizen, old = await left_behind(wx, [OutboundMessage(sender="agent", text="您的材料已审核通过。")],
                                     age=timedelta(hours=49))
    _, young = await left_behind(wx, [OutboundMessage(sender="agent", text="请携带原件到窗口领取。")],
                                 openid=citizen.external_id)
    await miniprogram_resend.sweep(wx)
    state = await states(wx, old + young)
    assert state[old[0]] == ("undelivered", miniprogram_outbound.EXPIRED_REASON)
    assert "48小时" in miniprogram_outbound.EXPIRED_REASON
    assert state[young[0]] == ("sent", None)
    assert fake.texts_to(citizen.external_id) == ["请携带原件到窗口领取。"]  # the expired one never went out


async def test_web_widget_messages_are_left_alone(wx, fake: FakeWeChat) -> None:
    web, web_ids = await left_behind(wx, [OutboundMessage(sender="bot", text="网页端的答复")], channel="web",
                                     openid=f"web-{uuid.uuid4().hex[:12]}")
    mp, mp_ids = await left_behind(wx, [OutboundMessage(sender="bot", text="小程序的答复")])
    assert (await states(wx, web_ids))[web_ids[0]] == ("stored", None)  # the web channel has no receipt
    await set_claim(wx, web_ids, delivery="pending", age=LONG_AGO)  # even if one ever looked pending
    await miniprogram_resend.sweep(wx)
    assert (await states(wx, mp_ids))[mp_ids[0]] == ("sent", None)  # the sweep did run
    assert (await states(wx, web_ids))[web_ids[0]] == ("pending", None)
    assert fake.sent_to(web.external_id) == [] and not any("网页端" in m.text for m in fake.sent)


async def test_a_lapsed_claim_is_taken_over_and_a_live_one_is_left_to_its_worker(wx, fake: FakeWeChat) -> None:
    # A worker died during the send call (at-least-once: sent again), another one is sending now.
    dead, dead_ids = await left_behind(wx, [OutboundMessage(sender="bot", text="发送中断的答复")])
    await set_claim(wx, dead_ids, delivery="sending", age=LONG_AGO)
    busy, busy_ids = await left_behind(wx, [OutboundMessage(sender="bot", text="正在发送的答复"),
                                            OutboundMessage(sender="bot", text="排在后面的答复")])
    await set_claim(wx, busy_ids[:1], delivery="sending", age=timedelta(seconds=1))

    await miniprogram_resend.sweep(wx)
    assert fake.texts_to(dead.external_id) == ["发送中断的答复"]
    assert await states(wx, dead_ids) == {dead_ids[0]: ("sent", None)}
    # The citizen's later message waits behind the live send, so the order holds.
    assert fake.sent_to(busy.external_id) == []
    busy_state = await states(wx, busy_ids)
    assert [busy_state[mid][0] for mid in busy_ids] == ["sending", "pending"]


async def test_a_claim_taken_over_stops_its_first_owner(wx, fake: FakeWeChat) -> None:
    from agent_desk.models import utcnow

    citizen, ids = await left_behind(wx, [OutboundMessage(sender="bot", text="只发一次")])
    first = await miniprogram_claims.claim(wx, citizen_id=citizen.id)
    assert first is not None and [m.id for m in first.messages] == ids
    # The first owner stalls past WECHAT_RESEND_AFTER_S; a sweep elsewhere takes the message over.
    later = utcnow() + timedelta(seconds=wx.settings.wechat_resend_after_s + 1)
    second = await miniprogram_claims.claim(wx, citizen_id=citizen.id, now=later)
    assert second is not None and [m.id for m in second.messages] == ids and second.owner != first.owner
    await miniprogram_outbound.send_claim(wx, first)  # wakes up: its claim is gone, it sends nothing
    assert fake.sent_to(citizen.external_id) == []
    await miniprogram_outbound.send_claim(wx, second)
    assert fake.texts_to(citizen.external_id) == ["只发一次"]
    assert await states(wx, ids) == {ids[0]: ("sent", None)}


async def test_the_outbox_waits_behind_another_workers_send_to_the_same_citizen(
        wx, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[object] = []

    async def watched_claim(*args: Any, **kwargs: Any) -> object:
        answers.append(result := await real_claim(*args, **kwargs))
        return result

    real_claim = miniprogram_claims.claim
    monkeypatch.setattr(miniprogram_claims, "claim", watched_claim)
    citizen, first_ids = await left_behind(wx, [OutboundMessage(sender="agent", text="第一条")],
                                           age=timedelta(0))
    other_worker = await real_claim(wx, citizen_id=citizen.id, ids=first_ids)
    assert other_worker is not None and len(other_worker.messages) == 1
    _, second_ids = await left_behind(wx, [OutboundMessage(sender="agent", text="第二条")], age=timedelta(0),
                                      openid=citizen.external_id)
    await miniprogram.send_to_citizen(wx, citizen, OutboundMessage(sender="agent", text="第二条"), second_ids[0])
    outbox = wx.extras["wechat_outbox"]
    await async_wait_for(lambda: None in answers, timeout=10, what="the outbox to find the citizen busy")
    assert fake.sent_to(citizen.external_id) == []
    await miniprogram_outbound.send_claim(wx, other_worker)
    await outbox.idle(timeout=10)
    assert fake.texts_to(citizen.external_id) == ["第一条", "第二条"]
    assert await states(wx, first_ids + second_ids) == {mid: ("sent", None) for mid in first_ids + second_ids}


async def test_wechat_unreachable_leaves_the_rest_pending_in_order_for_a_later_sweep(wx, fake: FakeWeChat) -> None:
    outs = [OutboundMessage(sender="agent", text="请看办理须知："),
            OutboundMessage(sender="agent", text="", attachment={"type": "image", "media_id": "MEDIA9"}),
            OutboundMessage(sender="agent", text="有问题请随时留言。")]
    citizen, ids = await left_behind(wx, outs)
    # The first WeChat message goes; then WeChat is busy through every retry of the second.
    fake.fail_next(0, *([-1] * (1 + len(wechat_api.RETRY_DELAYS_S))))
    claim = await miniprogram_claims.claim(wx, citizen_id=citizen.id)
    assert claim is not None
    assert await miniprogram_outbound.send_claim(wx, claim) == miniprogram_outbound.DEFERRED
    assert fake.texts_to(citizen.external_id) == ["请看办理须知："]
    # Not undelivered, nobody to tell: the image and the text after it wait, in order.
    assert await states(wx, ids) == {ids[0]: ("sent", None), ids[1]: ("pending", None), ids[2]: ("pending", None)}

    again = await miniprogram_claims.claim(wx, citizen_id=citizen.id)  # the next sweep, WeChat back
    assert again is not None and [m.id for m in again.messages] == ids[1:]
    assert await miniprogram_outbound.send_claim(wx, again) == miniprogram_outbound.DONE
    sent = fake.sent_to(citizen.external_id)
    assert [m.msgtype for m in sent] == ["text", "image", "text"] and sent[2].text == "有问题请随时留言。"
    assert await states(wx, ids) == {mid: ("sent", None) for mid in ids}


async def test_a_message_with_nothing_to_show_is_not_claimed_again_and_again(wx, fake: FakeWeChat) -> None:
    citizen, ids = await left_behind(wx, [OutboundMessage(sender="bot", text="  "),
                                          OutboundMessage(sender="bot", text="您好！")])
    claim = await miniprogram_claims.claim(wx, citizen_id=citizen.id)
    assert claim is not None and await miniprogram_outbound.send_claim(wx, claim) == miniprogram_outbound.DONE
    assert fake.texts_to(citizen.external_id) == ["您好！"]
    assert await states(wx, ids) == {mid: ("sent", None) for mid in ids}


async def test_the_outbox_takes_along_what_another_worker_stored_just_before(wx, fake: FakeWeChat) -> None:
    # Message 1 sits in another worker's gather window; this worker stores and queues message 2.
    citizen, ids = await left_behind(wx, [OutboundMessage(sender="system", text="人工客服 王晓明 已接入，为您服务。"),
                                          OutboundMessage(sender="agent", text="您好，请问办理什么业务？")],
                                     age=timedelta(0))
    await miniprogram.send_to_citizen(wx, citizen, OutboundMessage(sender="agent", text="您好，请问办理什么业务？"),
                                      ids[1])
    await wx.extras["wechat_outbox"].idle(timeout=10)
    assert fake.texts_to(citizen.external_id) == ["人工客服 王晓明 已接入，为您服务。\n\n您好，请问办理什么业务？"]
    assert await states(wx, ids) == {mid: ("sent", None) for mid in ids}
