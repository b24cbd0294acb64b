"""The one shape every channel normalises to, and the one shape the router sends back.

Channels (web socket.io, WeChat mini-program) convert their wire format into an
``InboundMessage`` and hand it to ``agent_desk.services.router.handle_inbound``.
The router answers through ``OutboundMessage`` objects, which each channel's
``deliver`` function turns back into its wire format.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

ChannelName = Literal["web", "miniprogram"]

# Channels that hand each outbound message to a third party's API and get an answer to record:
# their messages are stored "pending", tracked to "sent" or "undelivered", and sent by another
# worker if the one that stored them dies first (channels/miniprogram_resend.py). The web channel
# emits on the citizen's socket and the widget fetches what it missed, so its messages stay "stored".
PUSHED_CHANNELS = frozenset({"miniprogram"})


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(value: str) -> str:
    """Text any database and log can hold: lone UTF-16 surrogates (which no UTF-8 encoder
    accepts) become U+FFFD and NUL characters (which PostgreSQL text refuses) are dropped.
    Applied to everything a client sends before it is stored."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)


MAX_DB_INT = 2**31 - 1  # ids (and the counts compared with them) are 32-bit integers in PostgreSQL


def client_int(value: object) -> int | None:
    """A non-negative integer a client sent (a JSON integer, or its ASCII digits) that the
    database can compare with an id; None for anything else: negative, above ``MAX_DB_INT``,
    a fraction, a bool, a list. Checked before a query, so PostgreSQL never sees 10**30."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_DB_INT)):
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_DB_INT else None


def text_of(value: object) -> str | None:
    """A message's text as a client sent it in JSON: a string as it is, a number as its digits
    (a client that sent 123 meant "123"); None for anything else — null, a list, an object, a
    bool, an infinite number — which a channel refuses rather than storing an empty message."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return str(value)
    except ValueError:  # an integer of more than 4300 digits (Python refuses to print it)
        return None


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
    # Channel facts about the message, only the keys in INBOUND_METADATA_KEYS (the router drops
    # any other). Stored with the message and forwarded to Rasa.
    metadata: dict[str, Any] = field(default_factory=dict)


# What a channel may put in InboundMessage.metadata. Keys the desk writes on its own messages
# (topic, event, sender, kind, handoff, case, ...) are never among them: agents' screens trust those.
INBOUND_METADATA_KEYS = frozenset({
    "display_text",  # web: the title of the button the citizen pressed; a claim the router checks
    "option",        # mini-program: the digit typed for a numbered option (text is that option's payload)
    "upload_ip",     # web uploads: the uploader's address, for abuse handling
})
DISPLAY_TEXT_MAX_CHARS = 100


def clean_display_text(value: object) -> str | None:
    """A button title as a client claims it, or None if it cannot be one."""
    if not isinstance(value, str):
        return None
    value = safe_text(value).strip()
    return value if 0 < len(value) <= DISPLAY_TEXT_MAX_CHARS else None


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


# Buttons a client shows without the desk having sent them in a message: the widget's 转人工 key
# and its welcome card (static/widget/chat.js WELCOME; a test keeps the two in step). A pressed
# button's title is shown to agents only if the desk offered that button: one of these, or one
# stored in a recent desk message to the citizen.
STANDING_BUTTONS: tuple[Button, ...] = (
    Button(title="转人工", payload="/human_handoff"),
    Button(title="社保卡补办", payload="/shebao_ka"),
    Button(title="公积金提取", payload="/gjj_tiqu"),
    Button(title="异地就医备案", payload="/yibao_yidi"),
    Button(title="办事大厅地址", payload="/dating_dizhi"),
)


@dataclass(frozen=True)
class OutboundMessage:
    """Something the citizen should see: a bot answer, an agent message or a system notice."""

    sender: Sender
    text: str = ""
    buttons: tuple[Button, ...] = ()
    attachment: dict[str, Any] | None = None  # {"type": "image", "url": ...}
    # Structured extras: topic id, case tracking number, queue position, rating request, message id.
    metadata: dict[str, Any] = field(default_factory=dict)
