"""Web channel: Rasa's socket.io protocol on the default namespace.

session_request → session_confirm; user_uttered {message, session_id, metadata?} in;
bot_uttered {text, quick_replies, attachment, metadata} out. Existing Rasa widgets
connect unchanged. Unlike Rasa's own channel we *await* ``enter_room`` (see DESIGN.md).
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from .base import InboundMessage, OutboundMessage

if TYPE_CHECKING:
    import socketio
    from sanic import Sanic

    from agent_desk.context import DeskContext
    from agent_desk.models import Citizen

log = logging.getLogger("desk.channels.web")
NAMESPACE = "/"
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
MAX_MESSAGE_BYTES = 16 * 1024


def citizen_room(external_id: str) -> str:
    return f"web:{external_id}"


def to_bot_uttered(out: OutboundMessage) -> dict[str, Any]:
    """Our outbound message in the shape Rasa's socket.io channel emits."""
    data: dict[str, Any] = {"text": out.text, "metadata": {"sender": out.sender, **out.metadata}}
    if out.buttons:
        data["quick_replies"] = [{"content_type": "text", "title": b.title, "payload": b.payload}
                                 for b in out.buttons]
    if out.attachment:
        data["attachment"] = {"type": out.attachment.get("type", "file"),
                              "payload": {"src": out.attachment.get("url"), **out.attachment}}
    return data


async def send_to_citizen(ctx: "DeskContext", citizen: "Citizen", out: OutboundMessage, message_id: int) -> None:
    await ctx.sio.emit("bot_uttered", to_bot_uttered(out), room=citizen_room(citizen.external_id),
                       namespace=NAMESPACE)


def register(app: "Sanic", sio: "socketio.AsyncServer") -> None:
    from agent_desk.services.router import handle_inbound

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("session_request", namespace=NAMESPACE)
    async def session_request(sid: str, data: Any = None) -> None:
        requested = data.get("session_id") if isinstance(data, dict) else None
        session_id = requested if isinstance(requested, str) and SESSION_ID_RE.match(requested) else uuid.uuid4().hex
        await sio.save_session(sid, {"session_id": session_id}, namespace=NAMESPACE)
        await sio.enter_room(sid, citizen_room(session_id), namespace=NAMESPACE)
        await sio.emit("session_confirm", session_id, to=sid, namespace=NAMESPACE)

    @sio.on("user_uttered", namespace=NAMESPACE)
    async def user_uttered(sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            return {"ok": False, "error": "消息格式不正确"}
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        session_id = sess.get("session_id") or data.get("session_id")
        if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
            await sio.emit("bot_uttered", {"text": "会话已失效，请刷新页面后重试。", "metadata": {"sender": "system"}},
                           to=sid, namespace=NAMESPACE)
            return {"ok": False, "error": "no session"}
        if not sess.get("session_id"):
            await session_request(sid, {"session_id": session_id})
        text = data.get("message")
        text = text if isinstance(text, str) else ""
        if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
            text = text[: MAX_MESSAGE_BYTES // 3]
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        client_id = data.get("message_id") or metadata.get("message_id")
        inbound = InboundMessage(
            channel="web", external_user_id=session_id, text=text,
            source_id=str(client_id)[:128] if client_id else None,
            metadata={k: v for k, v in metadata.items() if isinstance(k, str) and k != "message_id"},
        )
        result = await handle_inbound(app.ctx.desk, inbound)
        return {"ok": True, "duplicate": result.duplicate, "message_id": result.message_id}
