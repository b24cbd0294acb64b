"""Getting messages out: to citizens through their channel, to agents through socket.io.

Channels register a sender at start-up; services call ``deliver_to_citizen`` after commit.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import OutboundMessage

from ..context import DeskContext
from ..models import Citizen, Conversation
from .messages import store_outbound

log = logging.getLogger("desk.delivery")

ChannelSender = Callable[[DeskContext, Citizen, OutboundMessage, int], Awaitable[None]]
_senders: dict[str, ChannelSender] = {}

AGENT_NS = "/agent"
AGENTS_ROOM = "agents"


def register_channel(name: str, sender: ChannelSender) -> None:
    _senders[name] = sender


async def deliver_to_citizen(ctx: DeskContext, *, citizen: Citizen, out: OutboundMessage, message_id: int) -> None:
    sender = _senders.get(citizen.channel)
    if sender is None:
        raise RuntimeError(f"no sender registered for channel {citizen.channel!r}")
    await sender(ctx, citizen, out, message_id)


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


async def notify_agents(ctx: DeskContext, event: str, data: dict[str, Any], *, agent_id: int | None = None) -> None:
    """Tell live agent browsers; one agent's room when the case is theirs, else all agents."""
    room = agent_room(agent_id) if agent_id is not None else AGENTS_ROOM
    await ctx.sio.emit(event, data, room=room, namespace=AGENT_NS)
    if agent_id is not None:
        # Managers and supervisors watch everything.
        await ctx.sio.emit(event, data, room="managers", namespace=AGENT_NS)


async def say_to_citizen(ctx: DeskContext, session: AsyncSession, *, citizen: Citizen, conv: Conversation,
               out: OutboundMessage) -> None:
    """Store a desk notice in the conversation, commit, then deliver it to the citizen."""
    reply = await store_outbound(session, conversation=conv, out=out)
    await session.commit()
    await deliver_to_citizen(ctx, citizen=citizen, out=with_message_id(out, reply.id), message_id=reply.id)


def with_message_id(out: OutboundMessage, message_id: int) -> OutboundMessage:
    return OutboundMessage(sender=out.sender, text=out.text, buttons=out.buttons, attachment=out.attachment,
                           metadata={**out.metadata, "message_id": message_id})
