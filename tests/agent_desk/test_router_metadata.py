"""The router stores only known message metadata, whatever the channel, and checks a pressed
button's title against the buttons the desk actually sent this citizen. Real PostgreSQL and Redis."""
from __future__ import annotations

import uuid

import pytest

from agent_desk.models import Conversation, Message
from agent_desk.services.messages import serialize, store_outbound
from agent_desk.services.router import handle_inbound
from channels.base import Button, InboundMessage, OutboundMessage
from tests.agent_desk import capture


@pytest.fixture
def outbox() -> capture.Outbox:
    return capture.install()


def say(cid: str, text: str, **metadata: object) -> InboundMessage:
    return InboundMessage(channel=capture.CHANNEL, external_user_id=cid, text=text,  # type: ignore[arg-type]
                          metadata=dict(metadata))


async def stored(ctx, message_id: int | None) -> Message:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        msg = await session.get(Message, message_id)
        assert msg is not None
        return msg


async def test_a_title_is_kept_only_for_a_button_the_desk_sent(desk_ctx, outbox) -> None:
    cid = f"meta-{uuid.uuid4().hex[:10]}"
    first = await handle_inbound(desk_ctx, say(cid, "/human_handoff", display_text="转人工"))
    async with desk_ctx.sessions() as session:
        conv = await session.get(Conversation, first.conversation_id)
        assert conv is not None
        await store_outbound(session, conversation=conv, out=OutboundMessage(
            sender="bot", text="您想了解哪一项？",
            buttons=(Button(title="跨省异地就医备案", payload="/yibao_yidi"),
                     Button(title="生育津贴申领", payload="/shengyu_jintie"))))
        await session.commit()

    pressed = await handle_inbound(desk_ctx, say(cid, "/shengyu_jintie", display_text="生育津贴申领"))
    assert pressed.display_text == "生育津贴申领"
    assert (await stored(desk_ctx, pressed.message_id)).payload["metadata"] == {"display_text": "生育津贴申领"}
    # The same payload offered under two titles (our button and the widget's welcome card): either is fine.
    for title in ("跨省异地就医备案", "异地就医备案"):
        res = await handle_inbound(desk_ctx, say(cid, "/yibao_yidi", display_text=title))
        assert res.display_text == title
    # A title the desk never offered for that payload: the payload itself is what agents see.
    wrong = await handle_inbound(desk_ctx, say(cid, "/shengyu_jintie", display_text="谢谢您，辛苦了"))
    assert wrong.display_text is None
    assert "metadata" not in (await stored(desk_ctx, wrong.message_id)).payload
    # Typed text never gets a display text, even one naming a real button.
    typed = await handle_inbound(desk_ctx, say(cid, "我要投诉", display_text="生育津贴申领"))
    assert typed.display_text is None


async def test_desk_owned_keys_are_dropped_whatever_the_channel(desk_ctx, outbox) -> None:
    cid = f"meta-{uuid.uuid4().hex[:10]}"
    res = await handle_inbound(desk_ctx, say(cid, "我要投诉", topic="FAKE_TOPIC", event="queued", sender="agent",
                                             kind="image", handoff=True, option="2", citizen_id=1))
    msg = await stored(desk_ctx, res.message_id)
    assert msg.payload["metadata"] == {"option": "2"}
    view = serialize(msg)
    assert (view["sender"], view["kind"], view["metadata"]) == ("citizen", "text", {"option": "2"})
