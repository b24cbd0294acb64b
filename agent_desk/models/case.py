"""Cases (工单): a handed-off conversation with a tracking number, and its rating."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class CaseStatus(str, enum.Enum):
    queued = "queued"
    assigned = "assigned"
    closed = "closed"


CASE_STATUS_LABELS = {
    CaseStatus.queued: "排队等待人工客服",
    CaseStatus.assigned: "人工客服处理中",
    CaseStatus.closed: "已办结",
}


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[CaseStatus] = mapped_column(Enum(CaseStatus, native_enum=False, length=16), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # handoff_intent | fallback | bot_unreachable | button | crisis
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    close_note: Mapped[str] = mapped_column(Text, default="")
    # Set when the citizen spoke of harming themselves (services/crisis.py), at the handoff or
    # later while waiting or being served; an urgent case waits ahead of every other.
    urgent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CaseCounter(Base):
    """Per-day sequence for tracking numbers; bumped with one atomic upsert."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class RatingScore(int, enum.Enum):
    very_satisfied = 5
    satisfied = 4
    basically_satisfied = 3
    dissatisfied = 2
    very_dissatisfied = 1


RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class Rating(Base):
    """政务服务“好差评”: one per case, with a snapshot of the agent who served."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    agent_name: Mapped[str] = mapped_column(String(64), default="")
    rectification: Mapped[str] = mapped_column(String(16), default="none", index=True)  # none|pending|done
    rectification_note: Mapped[str] = mapped_column(Text, default="")
    rectified_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
