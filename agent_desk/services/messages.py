"""Storing and serialising messages. Every message is stored before anything else happens."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import INBOUND_METADATA_KEYS, PUSHED_CHANNELS, Button, OutboundMessage
from channels.normalize import mask_pii

from ..models import Conversation, Message
from .topics import topic_label


async def store_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    sender: str,
    text: str,
    kind: str = "text",
    payload: dict[str, Any] | None = None,
    source_id: str | None = None,
    agent_id: int | None = None,
    private: bool = False,
    delivery: str = "stored",
) -> Message:
    msg = Message(
        conversation_id=conversation.id,
        citizen_id=conversation.citizen_id,
        sender=sender,
        kind=kind,
        text=text,
        payload=payload or {},
        source_id=source_id,
        agent_id=agent_id,
        private=private,
        delivery=delivery,
    )
    session.add(msg)
    await session.flush()
    return msg


async def store_outbound(session: AsyncSession, *, conversation: Conversation, out: OutboundMessage,
                         agent_id: int | None = None, source_id: str | None = None) -> Message:
    payload: dict[str, Any] = {"metadata": out.metadata}
    if out.buttons:
        payload["buttons"] = [asdict(b) for b in out.buttons]
    if out.attachment:
        payload["attachment"] = out.attachment
    kind = "image" if out.attachment and out.attachment.get("type") == "image" else "text"
    return await store_message(session, conversation=conversation, sender=out.sender, text=out.text,
                               kind=kind, payload=payload, agent_id=agent_id, source_id=source_id,
                               delivery="pending" if conversation.channel in PUSHED_CHANNELS else "stored")


def stored_outbound(msg: Message) -> OutboundMessage:
    """The message ``store_outbound`` stored, as the channel is given it (for sending it later)."""
    payload = msg.payload or {}
    metadata = payload.get("metadata")
    buttons = tuple(Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                    for b in payload.get("buttons") or () if isinstance(b, dict))
    attachment = payload.get("attachment")
    return OutboundMessage(sender=msg.sender, text=msg.text, buttons=buttons,  # type: ignore[arg-type]
                           attachment=attachment if isinstance(attachment, dict) else None,
                           metadata={**(metadata if isinstance(metadata, dict) else {}), "message_id": msg.id})


def serialize(msg: Message) -> dict[str, Any]:
    """The one JSON shape of a message for agents, managers and history APIs. ID, bank card and mobile
    numbers in the text are masked: staff need the matter, not the number (the citizen's own
    history, ``citizen_history.history_item``, masks only what the citizen typed)."""
    payload = msg.payload or {}
    metadata = payload.get("metadata") or {}
    if msg.sender == "citizen" and isinstance(metadata, dict):
        # Rows stored before the router checked citizen metadata may hold anything a client sent.
        metadata = {k: v for k, v in metadata.items() if k in INBOUND_METADATA_KEYS}
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "sender": msg.sender,
        "kind": msg.kind,
        "text": mask_pii(msg.text) if msg.text else msg.text,
        "buttons": payload.get("buttons", []),
        "attachment": payload.get("attachment"),
        "metadata": metadata,
        # a reply's topic as staff read it (title, or a label for the bot's dialogue intents)
        "topic_label": topic_label(metadata.get("topic")) if isinstance(metadata, dict) else None,
        "private": msg.private,
        "delivery": msg.delivery,
        "delivery_error": msg.delivery_error,
        "read": msg.read_at is not None,
        "created_at": msg.created_at.isoformat(),
    }


async def transcript(session: AsyncSession, *, conversation_id: int, after_id: int = 0,
                     include_private: bool = True) -> list[Message]:
    stmt = (select(Message).where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id))
    if not include_private:
        stmt = stmt.where(Message.private.is_(False))
    return list((await session.execute(stmt)).scalars())
