"""The one shape every channel normalises to, and the one shape the router sends back.

Channels (web socket.io, WeChat mini-program) convert their wire format into an
``InboundMessage`` and hand it to ``agent_desk.services.router.handle_inbound``.
The router answers through ``OutboundMessage`` objects, which each channel's
``deliver`` function turns back into its wire format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

ChannelName = Literal["web", "miniprogram"]


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(value: str) -> str:
    """Text any database and log can hold: lone UTF-16 surrogates (which no UTF-8 encoder
    accepts) become U+FFFD and NUL characters (which PostgreSQL text refuses) are dropped.
    Applied to everything a client sends before it is stored."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)
InboundKind = Literal["text", "image", "file", "card", "event", "unknown"]
Sender = Literal["citizen", "bot", "agent", "system"]


@dataclass(frozen=True)
class InboundMessage:
    """A citizen's message as the desk sees it, whatever channel it came from."""

    channel: ChannelName
    # Stable per-channel identity of the citizen: web = signed citizen id, WeChat = OpenID.
    external_user_id: str
    kind: InboundKind = "text"
    text: str = ""
    # Channel-level id used for dedupe (WeChat MsgId, web client message id). None = no dedupe.
    source_id: str | None = None
    # Attachment URL / media id / card fields / event name, as the channel saw them.
    payload: dict[str, Any] = field(default_factory=dict)
    # Free-form metadata forwarded to Rasa (never shown to the citizen).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class OutboundMessage:
    """Something the citizen should see: a bot answer, an agent message or a system notice."""

    sender: Sender
    text: str = ""
    buttons: tuple[Button, ...] = ()
    attachment: dict[str, Any] | None = None  # {"type": "image", "url": ...}
    # Structured extras: topic id, case tracking number, queue position, rating request, message id.
    metadata: dict[str, Any] = field(default_factory=dict)
