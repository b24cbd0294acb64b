"""Who sends which stored mini-program message: claims on the message rows in the database.

Messages for mini-program citizens are stored ``pending``. Whoever sends them (the worker that
stored them, once the turn is gathered, or the resend sweep of any worker) first claims them,
per citizen: under a lock on the citizen's row, and only while no other claim on that citizen
is live, they move to ``claimed`` under a new owner token. So a message has one owner at a
time, and a citizen's messages leave in order, one batch after another, whichever workers
stored them.

Right before the send-API call that carries a message its owner marks it ``sending``, and right
after the answer ``sent`` (or ``undelivered``); every mark renews the claim. A claim that shows
no progress for ``WECHAT_RESEND_AFTER_S`` belongs to a dead or stuck worker and may be claimed
again. What it had marked ``sending`` is sent again: WeChat cannot tell us whether that call
arrived, and a duplicate is better than a message lost (docs/miniprogram.md).
"""
from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select, update

if TYPE_CHECKING:
    from agent_desk.context import DeskContext
    from agent_desk.models import Message

CLAIMED, SENDING = "claimed", "sending"
MAX_CLAIM = 100  # messages per claim; more wait for the next one (only after a long WeChat outage)


@dataclass(frozen=True)
class Claim:
    owner: str
    citizen_id: int
    openid: str
    messages: Sequence[Message]  # oldest first
    retaken: frozenset[int]  # ids a lapsed claim had marked "sending": they may have arrived already


def lapse_cutoff(ctx: DeskContext, now: datetime) -> datetime:
    return now - timedelta(seconds=ctx.settings.wechat_resend_after_s)


def due(cutoff: datetime) -> ColumnElement[bool]:
    """Messages nobody is working on: pending since before ``cutoff``, or claimed and silent since then."""
    from agent_desk.models import Message

    return or_(and_(Message.delivery == "pending", Message.created_at < cutoff),
               and_(Message.delivery.in_((CLAIMED, SENDING)), Message.delivery_at < cutoff))


async def claim(ctx: DeskContext, *, citizen_id: int, ids: Collection[int] = (),
                now: datetime | None = None) -> Claim | None:
    """Claim the citizen's messages ``ids`` and those stored before them (the ones still pending)
    and all of theirs that are due. Taking the earlier ones along keeps the order when another
    worker stored them a moment before and has not claimed them yet.

    None while another claim on this citizen is live: the caller's messages wait behind it.
    """
    from agent_desk.models import DELIVERY_OPEN, Citizen, Message, utcnow

    now = now or utcnow()
    cutoff = lapse_cutoff(ctx, now)
    owner = secrets.token_hex(16)
    async with ctx.sessions() as session:
        # One claimer per citizen at a time: a row lock in PostgreSQL (SQLite has one writer anyway).
        citizen = (await session.execute(
            select(Citizen).where(Citizen.id == citizen_id).with_for_update())).scalar_one_or_none()
        if citizen is None or citizen.channel != "miniprogram":
            return Claim(owner, citizen_id, "", (), frozenset())
        live = (await session.execute(select(Message.id).where(
            Message.citizen_id == citizen_id, Message.delivery.in_((CLAIMED, SENDING)),
            Message.delivery_at >= cutoff).limit(1))).first()
        if live is not None:
            return None
        rows = (await session.execute(
            select(Message.id, Message.delivery)
            .where(Message.citizen_id == citizen_id, Message.delivery.in_(DELIVERY_OPEN),
                   or_(and_(Message.delivery == "pending", Message.id <= max(ids, default=0)), due(cutoff)))
            .order_by(Message.id).limit(MAX_CLAIM).with_for_update())).all()
        messages: Sequence[Message] = ()
        if rows:
            await session.execute(
                update(Message).where(Message.id.in_([r[0] for r in rows]))
                .values(delivery=CLAIMED, delivery_owner=owner, delivery_at=now)
                .execution_options(synchronize_session=False))
            messages = (await session.execute(select(Message).where(Message.delivery_owner == owner)
                                              .order_by(Message.id))).scalars().all()
        await session.commit()
    return Claim(owner=owner, citizen_id=citizen_id, openid=citizen.external_id, messages=messages,
                 retaken=frozenset(r[0] for r in rows if r[1] == SENDING))


async def start_sending(ctx: DeskContext, claim: Claim, ids: Collection[int]) -> bool:
    """Mark ``ids`` sending and renew the claim; False if the claim was taken over (send nothing)."""
    from agent_desk.models import Message, utcnow

    now = utcnow()
    mine = (Message.delivery_owner == claim.owner, Message.delivery.in_((CLAIMED, SENDING)))
    async with ctx.sessions() as session:
        await session.execute(update(Message).where(*mine).values(delivery_at=now)
                              .execution_options(synchronize_session=False))
        marked = await session.execute(update(Message).where(Message.id.in_(list(ids)), *mine)
                                       .values(delivery=SENDING, delivery_at=now)
                                       .execution_options(synchronize_session=False))
        if marked.rowcount != len(set(ids)):  # type: ignore[attr-defined]
            await session.rollback()
            return False
        await session.commit()
    return True


async def mark_sent(ctx: DeskContext, claim: Claim, ids: Collection[int]) -> None:
    from agent_desk.models import Message, utcnow

    async with ctx.sessions() as session:
        await session.execute(update(Message).where(Message.id.in_(list(ids)), Message.delivery_owner == claim.owner)
                              .values(delivery="sent", delivery_error=None, delivery_at=utcnow())
                              .execution_options(synchronize_session=False))
        await session.commit()


async def release(ctx: DeskContext, claim: Claim, *, started_too: bool = False) -> None:
    """Give back to ``pending`` what the claim has not sent: the messages it has not started on
    (its sender failed or is stopping) and, with ``started_too``, those whose send failed too."""
    from agent_desk.models import Message, utcnow

    states = (CLAIMED, SENDING) if started_too else (CLAIMED,)
    async with ctx.sessions() as session:
        await session.execute(update(Message).where(Message.delivery_owner == claim.owner,
                                                    Message.delivery.in_(states))
                              .values(delivery="pending", delivery_owner=None, delivery_at=utcnow())
                              .execution_options(synchronize_session=False))
        await session.commit()
