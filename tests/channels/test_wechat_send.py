"""The customer-service send API client and the mini-program sender, against FakeWeChat.

In-process DeskContext on the real PostgreSQL and Redis; only WeChat's servers are faked
(tests/support/fake_wechat.py, a real HTTP server speaking WeChat's documented API).
"""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from channels import miniprogram, miniprogram_outbound, miniprogram_render, wechat_api
from channels.base import Button, OutboundMessage
from tests.support.fake_wechat import FakeWeChat


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same policy, shorter waits: the count of retries is what these tests check.
    monkeypatch.setattr(wechat_api, "RETRY_DELAYS_S", (0.01, 0.02, 0.04))
    monkeypatch.setattr(miniprogram_outbound, "GATHER_S", 0.05)


@pytest.fixture
def wx(desk_ctx, fake: FakeWeChat):  # type: ignore[no-untyped-def]
    desk_ctx.settings = replace(desk_ctx.settings, wechat_token="tok", wechat_appid=fake.appid,
                                wechat_secret=fake.secret, wechat_api_base=fake.url)
    return desk_ctx


def text_msg(openid: str, content: str) -> dict[str, object]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


async def test_token_fetched_once_and_shared_by_workers(wx, fake: FakeWeChat, redis_url: str) -> None:
    # A second "worker": its own Redis connection and HTTP client, the same Redis keys.
    redis2 = Redis.from_url(redis_url, decode_responses=True)
    http2 = httpx.AsyncClient(timeout=10)
    other = replace(wx, redis=redis2, http=http2)
    try:
        results = await asyncio.gather(*[
            wechat_api.send_custom_message(wx if i % 2 else other, text_msg(f"oShare{i:04d}", f"第{i}条"))
            for i in range(20)])
    finally:
        await redis2.aclose()
        await http2.aclose()
    assert all(r.ok for r in results)
    assert fake.token_requests == 1
    assert len({m.token for m in fake.sent}) == 1 and len(fake.sent) == 20
    assert await wx.redis.ttl(wx.keys.wechat_token(fake.appid)) > 6000  # cached until shortly before expiry


@pytest.mark.parametrize("invalidate, code", [("expire_tokens", 42001), ("revoke_tokens", 40001)])
async def test_rejected_token_refreshed_once(wx, fake: FakeWeChat, invalidate: str, code: int) -> None:
    assert (await wechat_api.send_custom_message(wx, text_msg("oRefresh01", "一"))).ok
    getattr(fake, invalidate)()
    result = await wechat_api.send_custom_message(wx, text_msg("oRefresh01", "二"))
    assert result.ok and result.attempts == 1
    assert fake.token_requests == 2
    assert [a.answered["errcode"] for a in fake.attempts] == [0, code, 0]
    assert fake.sent[-1].token != fake.sent[0].token and fake.sent[-1].text == "二"


async def test_token_refresh_happens_only_once_per_send(wx, fake: FakeWeChat) -> None:
    assert (await wechat_api.send_custom_message(wx, text_msg("oRefresh02", "一"))).ok
    fake.revoke_tokens()
    fake.fail_next(40001)  # the fresh token is rejected too: an ordinary, bounded retry follows
    result = await wechat_api.send_custom_message(wx, text_msg("oRefresh02", "二"))
    assert result.ok
    assert fake.token_requests == 2
    assert [a.answered["errcode"] for a in fake.attempts] == [0, 40001, 40001, 0]


@pytest.mark.parametrize("code", [45015, 45047])
async def test_window_and_quota_errors_are_not_retried(wx, fake: FakeWeChat, code: int) -> None:
    fake.fail_next(code)
    result = await wechat_api.send_custom_message(wx, text_msg("oPerm00001", "您好"))
    assert not result.ok and result.permanent and result.errcode == code
    assert len(fake.attempts) == 1 and fake.sent == []
    assert str(code) in result.reason


async def test_busy_is_retried_with_backoff(wx, fake: FakeWeChat) -> None:
    fake.fail_next(-1, -1)
    result = await wechat_api.send_custom_message(wx, text_msg("oBusy00001", "您好"))
    assert result.ok and result.attempts == 3
    assert [a.answered["errcode"] for a in fake.attempts] == [-1, -1, 0]


async def test_retries_are_bounded(wx, fake: FakeWeChat) -> None:
    fake.fail_next(*([-1] * 10))
    result = await wechat_api.send_custom_message(wx, text_msg("oBusy00002", "您好"))
    assert not result.ok and not result.permanent and result.errcode == -1
    assert len(fake.attempts) == 1 + len(wechat_api.RETRY_DELAYS_S)


async def test_wrong_secret_sends_nothing(wx, fake: FakeWeChat) -> None:
    wx.settings = replace(wx.settings, wechat_secret="wrong")
    result = await wechat_api.send_custom_message(wx, text_msg("oSecret001", "您好"))
    assert not result.ok and fake.attempts == []
    assert fake.token_requests == 1 + len(wechat_api.RETRY_DELAYS_S)


async def test_chinese_is_sent_as_utf8_not_escaped(wx, fake: FakeWeChat) -> None:
    assert (await wechat_api.send_custom_message(wx, text_msg("oUtf800001", "您好，社保卡补办"))).ok
    raw = fake.sent[0].raw
    assert "您好，社保卡补办".encode() in raw and b"\\u" not in raw


# ---- the sender registered for channel "miniprogram" ------------------------------------

async def _citizen_with_messages(ctx, outs: list[OutboundMessage], openid: str = ""):  # type: ignore[no-untyped-def]
    from agent_desk.services.messages import store_outbound
    from agent_desk.services.router import get_or_create_citizen, open_conversation

    openid = openid or f"oSend{uuid.uuid4().hex[:16]}"
    async with ctx.sessions() as session:
        citizen = await get_or_create_citizen(session, channel="miniprogram", external_id=openid)
        conv = await open_conversation(session, citizen=citizen)
        ids = [(await store_outbound(session, conversation=conv, out=o)).id for o in outs]
        await session.commit()
    return citizen, ids


async def _delivery(ctx, ids: list[int]) -> dict[int, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    from agent_desk.models import Message

    async with ctx.sessions() as session:
        rows = (await session.execute(select(Message.id, Message.delivery, Message.delivery_error)
                                      .where(Message.id.in_(ids)))).all()
    return {r[0]: (r[1], r[2]) for r in rows}


async def _send_all(ctx, citizen, outs, ids) -> None:  # type: ignore[no-untyped-def]
    for out, mid in zip(outs, ids, strict=True):
        await miniprogram.send_to_citizen(ctx, citizen, out, mid)
    await ctx.extras["wechat_outbox"].idle()


async def test_turn_is_merged_and_buttons_become_numbered_options(wx, fake: FakeWeChat) -> None:
    outs = [OutboundMessage(sender="bot", text="社保卡补办需携带身份证原件。"),
            OutboundMessage(sender="bot", text="还需要什么帮助？",
                            buttons=(Button("查询办理进度", "/case_status"), Button("转人工客服", "/human_handoff")))]
    citizen, ids = await _citizen_with_messages(wx, outs)
    await _send_all(wx, citizen, outs, ids)
    texts = fake.texts_to(citizen.external_id)
    assert len(texts) == 1  # two replies, one WeChat message: the quota is 5 per citizen message
    assert texts[0] == ("社保卡补办需携带身份证原件。\n\n还需要什么帮助？\n1. 查询办理进度\n2. 转人工客服\n"
                        + miniprogram_render.OPTIONS_HINT)
    options = json.loads(await wx.redis.get(wx.keys.wechat_options(citizen.external_id)))
    assert options == {"1": "/case_status", "2": "/human_handoff"}
    assert await _delivery(wx, ids) == {ids[0]: ("sent", None), ids[1]: ("sent", None)}
    # The citizen answers with a digit (full-width too): it means the button's payload.
    for typed in ("2", "２", " 2 "):
        inbound = await miniprogram.to_inbound(wx, {"FromUserName": citizen.external_id, "MsgType": "text",
                                                    "Content": typed, "MsgId": "1"})
        assert inbound.text == "/human_handoff" and inbound.metadata == {"option": "2"}
    other = await miniprogram.to_inbound(wx, {"FromUserName": citizen.external_id, "MsgType": "text",
                                              "Content": "7", "MsgId": "2"})
    assert other.text == "7"


async def test_a_bot_message_without_buttons_clears_the_options(wx, fake: FakeWeChat) -> None:
    first = [OutboundMessage(sender="system", text="请评价", buttons=(Button("满意", '/rate{"score": 4}'),))]
    citizen, ids = await _citizen_with_messages(wx, first)
    await _send_all(wx, citizen, first, ids)
    assert await wx.redis.get(wx.keys.wechat_options(citizen.external_id))
    second = [OutboundMessage(sender="bot", text="好的")]
    _, ids2 = await _citizen_with_messages(wx, second, citizen.external_id)
    await _send_all(wx, citizen, second, ids2)
    assert await wx.redis.get(wx.keys.wechat_options(citizen.external_id)) is None


async def test_long_answer_uses_as_few_messages_as_the_length_limit_allows(wx, fake: FakeWeChat) -> None:
    long_text = "\n".join(f"第{i}条：" + "政务服务" * 40 for i in range(30))  # ~14 KB of UTF-8
    outs = [OutboundMessage(sender="bot", text=long_text)]
    citizen, ids = await _citizen_with_messages(wx, outs)
    await _send_all(wx, citizen, outs, ids)
    texts = fake.texts_to(citizen.external_id)
    total = len(long_text.encode())
    assert len(texts) == -(-total // miniprogram_render.MAX_TEXT_BYTES)  # the minimum possible: 8
    assert all(len(t.encode()) <= miniprogram_render.MAX_TEXT_BYTES for t in texts)
    assert "\n".join(texts) == long_text


async def test_closed_window_marks_undelivered_and_stops(wx, fake: FakeWeChat) -> None:
    outs = [OutboundMessage(sender="agent", text="您好，材料已收到。",
                            attachment={"type": "image", "media_id": "MEDIA1"}),
            OutboundMessage(sender="agent", text="还有问题请留言。")]
    citizen, ids = await _citizen_with_messages(wx, outs)
    fake.close_window(citizen.external_id)
    await _send_all(wx, citizen, outs, ids)
    assert len(fake.attempts_to(citizen.external_id)) == 1  # 45015 once, then nothing more is tried
    state = await _delivery(wx, ids)
    assert {s for s, _ in state.values()} == {"undelivered"}
    assert all("45015" in (e or "") and "48小时" in (e or "") for _, e in state.values())


async def test_image_attachment_goes_as_image_message(wx, fake: FakeWeChat) -> None:
    outs = [OutboundMessage(sender="agent", text="请看示例：", attachment={"type": "image", "media_id": "MEDIA42"}),
            OutboundMessage(sender="agent", text="", attachment={"type": "file", "url": "https://example.gov.cn/a.pdf",
                                                                "title": "申请表"})]
    citizen, ids = await _citizen_with_messages(wx, outs)
    await _send_all(wx, citizen, outs, ids)
    sent = fake.sent_to(citizen.external_id)
    assert [m.msgtype for m in sent] == ["text", "image", "link"]
    assert sent[0].text == "请看示例：" and sent[1].body["image"] == {"media_id": "MEDIA42"}
    assert sent[2].body["link"]["url"] == "https://example.gov.cn/a.pdf" and sent[2].body["link"]["title"] == "申请表"
    assert await _delivery(wx, ids) == {ids[0]: ("sent", None), ids[1]: ("sent", None)}
