"""Conversations and their messages: the desk owns the conversation, not Rasa."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class ConversationStatus(str, enum.Enum):
    bot = "bot"            # the bot answers
    queued = "queued"      # handed off, waiting for an agent
    assigned = "assigned"  # an agent is chatting
    closed = "closed"      # finished; a new citizen message opens a new conversation


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_citizen_status", "citizen_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[ConversationStatus] = mapped_column(
        Enum(ConversationStatus, native_enum=False, length=16), default=ConversationStatus.bot
    )
    consecutive_fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    last_topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# Delivery states of a message to the citizen. Web messages stay "stored": the widget fetches what
# it missed when it reconnects, so there is no receipt to wait for. Channels that push through a
# third party's API (the mini-program) store theirs "pending"; a worker claims it ("claimed"),
# marks it "sending" right before the API call that carries it, and records "sent" or
# "undelivered" (with ``delivery_error``). channels/miniprogram_claims.py owns these moves.
DELIVERY_OPEN = ("pending", "claimed", "sending")
_OPEN_SQL = "delivery IN ('pending', 'claimed', 'sending')"


class Message(Base):
    """Every message from whoever, stored before anything else happens.

    ``id`` is monotonically increasing, so clients resume "after message id N".
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("citizen_id", "source_id", name="uq_messages_citizen_source"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # Only messages still on their way: the resend sweep reads this, never the whole table.
        Index("ix_messages_delivery_open", "citizen_id", "id",
              postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    sender: Mapped[str] = mapped_column(String(10))  # citizen | bot | agent | system
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # agent-only note
    delivery: Mapped[str] = mapped_column(String(16), default="stored")  # see DELIVERY_OPEN above
    delivery_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # When the delivery state last moved (a claim, a send starting, its outcome) and which claim
    # moved it: a claim that shows no progress for WECHAT_RESEND_AFTER_S may be taken over.
    delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivery_owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
