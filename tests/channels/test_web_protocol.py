"""The bot_uttered wire shape Rasa widgets expect: text, quick replies, images, custom payloads."""
from __future__ import annotations

from channels.base import Button, OutboundMessage
from channels.web import to_bot_uttered


def test_text_and_quick_replies() -> None:
    out = OutboundMessage(sender="bot", text="请选择您要咨询的事项：",
                          buttons=(Button("社保卡", "/ask_shebao_ka"), Button("转人工", "/human_handoff")),
                          metadata={"topic": "shebao_ka"})
    data = to_bot_uttered(out, 42)
    assert data["text"] == "请选择您要咨询的事项："
    assert data["quick_replies"] == [
        {"content_type": "text", "title": "社保卡", "payload": "/ask_shebao_ka"},
        {"content_type": "text", "title": "转人工", "payload": "/human_handoff"},
    ]
    assert data["metadata"] == {"sender": "bot", "topic": "shebao_ka", "message_id": 42}


def test_image_attachment_in_rasa_shape() -> None:
    data = to_bot_uttered(OutboundMessage(sender="bot", attachment={"type": "image", "url": "https://x/y.png"}), 7)
    assert data["attachment"]["type"] == "image"
    assert data["attachment"]["payload"]["src"] == "https://x/y.png"


def test_custom_payload_is_passed_through() -> None:
    custom = {"card": {"title": "办事指南", "url": "https://example.gov.cn/guide"}}
    data = to_bot_uttered(OutboundMessage(sender="bot", metadata={"custom": custom}), 9)
    assert data["custom"] == custom
    assert data["metadata"]["message_id"] == 9
