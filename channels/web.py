"""Web channel: Rasa's socket.io protocol on the default namespace.

session_request → session_confirm; user_uttered {message, session_id, metadata?, message_id?}
in (acked with {ok, duplicate, message_id}); bot_uttered {text, quick_replies, attachment,
metadata} out. Existing Rasa widgets connect unchanged. Unlike Rasa's own channel we
*await* ``enter_room`` (see DESIGN.md).

Our widget adds, without changing the Rasa events: a signed ``citizen_token`` in
``session_request`` (answered by ``session_identity``), ``history_request`` {after_id} for
resuming, ``citizen_state`` (queue position / agent), ``citizen_message`` echoes so a second
tab sees what the first one sent, and identity transfer to a second device.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from .base import (
    MAX_DB_INT,
    InboundMessage,
    OutboundMessage,
    clean_display_text,
    client_int,
    safe_text,
    text_of,
)

if TYPE_CHECKING:
    import socketio
    from sanic import Sanic

    from agent_desk.context import DeskContext
    from agent_desk.models import Citizen

log = logging.getLogger("desk.channels.web")
NAMESPACE = "/"
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
MAX_MESSAGE_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 2000  # above the router's "please summarise" threshold, below abuse
MAX_METADATA_BYTES = 2048  # what our widget sends is under 200 bytes
MAX_CLIENT_ID_CHARS = 128
NOT_TEXT = "消息格式不正确，请输入文字后再发送。"

# One lock per socket: python-socketio runs each event in its own task, and a handler that
# awaits Redis before reaching the router could otherwise overtake the previous message.
_sid_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


def citizen_room(external_id: str) -> str:
    return f"web:{external_id}"


def to_bot_uttered(out: OutboundMessage, message_id: int | None = None) -> dict[str, Any]:
    """Our outbound message in the shape Rasa's socket.io channel emits."""
    meta: dict[str, Any] = {"sender": out.sender, **out.metadata}
    if message_id is not None:
        meta["message_id"] = message_id
    data: dict[str, Any] = {"text": out.text, "metadata": meta}
    if out.buttons:
        data["quick_replies"] = [{"content_type": "text", "title": b.title, "payload": b.payload}
                                 for b in out.buttons]
    if out.attachment:
        data["attachment"] = {"type": out.attachment.get("type", "file"),
                              "payload": {"src": out.attachment.get("url"), **out.attachment}}
    custom = out.metadata.get("custom")
    if isinstance(custom, dict):
        data["custom"] = custom  # Rasa's channel sends custom json payloads under this key
    return data


async def send_to_citizen(ctx: DeskContext, citizen: Citizen, out: OutboundMessage, message_id: int) -> None:
    await ctx.sio.emit("bot_uttered", to_bot_uttered(out, message_id), room=citizen_room(citizen.external_id),
                       namespace=NAMESPACE)


async def echo_citizen_message(ctx: DeskContext, *, external_id: str, message_id: int, text: str,
                               client_id: str | None, kind: str = "text",
                               attachment: dict[str, Any] | None = None, display_text: str | None = None) -> None:
    """Every open tab/device of this citizen shows what any of them sent."""
    data = {"id": message_id, "sender": "citizen", "kind": kind, "text": text, "client_id": client_id,
            "attachment": attachment, "metadata": {"message_id": message_id,
                                                   **({"display_text": display_text} if display_text else {})}}
    await ctx.sio.emit("citizen_message", data, room=citizen_room(external_id), namespace=NAMESPACE)


def client_message_id(value: object) -> str | None:
    """The client's id for a message (our widget: a UUID), used to store a resend once."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = safe_text(str(value)).strip()[:MAX_CLIENT_ID_CHARS]
    return text or None


def _json_bytes(value: object) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return MAX_METADATA_BYTES + 1


def read_metadata(data: dict[str, Any]) -> tuple[dict[str, Any], str | None, list[str]]:
    """``user_uttered`` metadata as the desk accepts it: ``(metadata, client message id, dropped keys)``.

    Rasa clients may attach any metadata; we keep only what our widget sends and the router
    understands: ``message_id`` (also accepted at the top level) and ``display_text`` (a claim
    the router checks against the buttons it offered). Anything else, and all of it when it is
    over MAX_METADATA_BYTES, is dropped; the message itself is still taken.
    """
    raw = data.get("metadata")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    dropped: list[str] = [] if raw is None or isinstance(raw, dict) else ["<not an object>"]
    if meta and _json_bytes(meta) > MAX_METADATA_BYTES:
        dropped.append(f"<over {MAX_METADATA_BYTES} bytes>")
        meta = {}
    client_id = client_message_id(data.get("message_id")) or client_message_id(meta.get("message_id"))
    kept: dict[str, Any] = {}
    for key, value in meta.items():
        if key == "display_text" and (display := clean_display_text(value)) is not None:
            kept[key] = display
        elif key != "message_id":
            dropped.append(str(key)[:40])
    return kept, client_id, dropped


def _client_ip(environ: dict[str, Any]) -> str:
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else str(environ.get("REMOTE_ADDR", ""))


def register(app: Sanic, sio: socketio.AsyncServer) -> None:
    from agent_desk.services import citizen_identity as ident
    from agent_desk.services import rate_limit
    from agent_desk.services.citizen_history import citizen_history, citizen_state, find_citizen
    from agent_desk.services.router import handle_inbound

    citizen_limit = rate_limit.limit_from_env("DESK_WEB_RATE_CITIZEN", "20/60")
    ip_limit = rate_limit.limit_from_env("DESK_WEB_RATE_IP", "300/60")
    identity = ident.CitizenIdentity(app.ctx.settings.secret_key)
    app.ctx.citizen_identity = identity

    def ctx() -> DeskContext:
        return app.ctx.desk  # type: ignore[no-any-return]

    async def notice(sid: str, text: str, event: str) -> None:
        """A system line for this socket only (not stored: it is about the connection)."""
        await sio.emit("bot_uttered", {"text": text, "metadata": {"sender": "system", "event": event}},
                       to=sid, namespace=NAMESPACE)

    async def bind(sid: str, external_id: str, *, token: str | None) -> None:
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        old = sess.get("session_id")
        if old and old != external_id:
            await sio.leave_room(sid, citizen_room(old), namespace=NAMESPACE)
        sess.update({"session_id": external_id, "token": bool(token)})
        await sio.save_session(sid, sess, namespace=NAMESPACE)
        await sio.enter_room(sid, citizen_room(external_id), namespace=NAMESPACE)
        if token:
            await sio.emit("session_identity", {"citizen_token": token, "session_id": external_id},
                           to=sid, namespace=NAMESPACE)

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        # The Origin header was already checked by engine.io against DESK_ALLOWED_ORIGINS
        # (same-origin only when unset).
        await sio.save_session(sid, {"ip": _client_ip(environ)}, namespace=NAMESPACE)
        return True

    @sio.on("disconnect", namespace=NAMESPACE)
    async def disconnect(sid: str, reason: Any = None) -> None:
        lock = _sid_locks.get(sid)
        if lock is not None and not lock.locked():
            _sid_locks.pop(sid, None)

    @sio.on("session_request", namespace=NAMESPACE)
    async def session_request(sid: str, data: Any = None) -> None:
        data = data if isinstance(data, dict) else {}
        external_id = identity.verify(data.get("citizen_token"))
        token: str | None = data.get("citizen_token") if external_id else None
        if external_id is None and "citizen_token" in data:
            # Our widget without a (valid) identity yet: mint one it can keep.
            external_id = identity.new_external_id()
            token = identity.issue(external_id)
        if external_id is None:
            requested = data.get("session_id")
            external_id = (requested if isinstance(requested, str) and SESSION_ID_RE.match(requested)
                           else uuid.uuid4().hex)
        await bind(sid, external_id, token=token)
        await sio.emit("session_confirm", external_id, to=sid, namespace=NAMESPACE)

    @sio.on("user_uttered", namespace=NAMESPACE)
    async def user_uttered(sid: str, data: Any = None) -> dict[str, Any]:
        async with _sid_locks[sid]:
            return await _user_uttered(sid, data)

    async def _user_uttered(sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return {"ok": False, "error": "消息格式不正确"}
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        session_id = sess.get("session_id")
        if not session_id:  # a Rasa client that skipped session_request
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
                await notice(sid, "会话已失效，请刷新页面后重试。", "no_session")
                return {"ok": False, "error": "no session"}
            await bind(sid, session_id, token=None)
        text = text_of(data.get("message"))
        if text is None:
            await notice(sid, NOT_TEXT, "not_text")
            return {"ok": False, "error": NOT_TEXT}
        if len(text) > MAX_MESSAGE_CHARS or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
            await notice(sid, f"消息过长（最多{MAX_MESSAGE_CHARS}字），请分几次发送。", "too_large")
            return {"ok": False, "error": "too_large", "max_chars": MAX_MESSAGE_CHARS}
        for scope, key, limit in (("web-citizen", session_id, citizen_limit), ("web-ip", sess.get("ip", ""), ip_limit)):
            retry = await rate_limit.hit(ctx().redis, ctx().keys, scope=scope, key=key, limit=limit)
            if retry is not None:
                await notice(sid, f"您发送消息太频繁了，请休息一下，{retry}秒后再试。", "rate_limited")
                return {"ok": False, "error": "rate_limited", "retry_after": retry}
        metadata, source_id, dropped = read_metadata(data)
        if dropped:
            log.info("citizen metadata dropped", extra={"session": session_id[:8], "keys": dropped[:10]})
        inbound = InboundMessage(channel="web", external_user_id=session_id, text=text, source_id=source_id,
                                 metadata=metadata)
        try:
            result = await handle_inbound(ctx(), inbound)
        except Exception:
            # Never leave the client waiting for an ack it will resend forever.
            log.exception("web message processing failed", extra={"session": session_id[:8]})
            await notice(sid, "抱歉，系统处理您的消息时出错，请稍后再试或拨打12345。", "server_error")
            return {"ok": False, "error": "server_error"}
        if not result.duplicate and result.message_id is not None:
            await echo_citizen_message(ctx(), external_id=session_id, message_id=result.message_id, text=text,
                                       client_id=source_id, display_text=result.display_text)
        return {"ok": True, "duplicate": result.duplicate, "message_id": result.message_id}

    async def _citizen_id(sid: str) -> tuple[str | None, int | None]:
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        external_id = sess.get("session_id")
        if not external_id:
            return None, None
        async with ctx().sessions() as session:
            citizen = await find_citizen(session, channel="web", external_id=external_id)
        return external_id, citizen.id if citizen else None

    @sio.on("history_request", namespace=NAMESPACE)
    async def history_request(sid: str, data: Any = None) -> dict[str, Any]:
        data = data if isinstance(data, dict) else {}
        # Message ids as the widget keeps them; anything else is answered, never queried with
        # (an id past PostgreSQL's integer range used to fail inside and leave the ack unsent).
        bounds: dict[str, int] = {}
        for name in ("after_id", "before_id"):
            raw = data.get(name)
            value = 0 if raw is None else client_int(raw)
            if value is None:
                return {"ok": False, "error": f"{name} 应为不大于 {MAX_DB_INT} 的非负整数"}
            bounds[name] = value
        external_id, citizen_id = await _citizen_id(sid)
        if external_id is None:
            return {"ok": False, "error": "no session"}
        if citizen_id is None:
            return {"ok": True, "messages": [], "has_more": False, "state": {"status": "bot"}}
        try:
            async with ctx().sessions() as session:
                items, has_more = await citizen_history(session, citizen_id=citizen_id, **bounds)
                state = await citizen_state(ctx(), session, citizen_id=citizen_id)
        except Exception:
            log.exception("history request failed", extra={"session": external_id[:8]})
            return {"ok": False, "error": "暂时无法读取聊天记录，请稍后再试。"}
        return {"ok": True, "messages": items, "has_more": has_more, "state": state}

    @sio.on("citizen_state", namespace=NAMESPACE)
    async def state_request(sid: str, data: Any = None) -> dict[str, Any]:
        _, citizen_id = await _citizen_id(sid)
        if citizen_id is None:
            return {"status": "bot"}
        async with ctx().sessions() as session:
            return await citizen_state(ctx(), session, citizen_id=citizen_id)

    async def guarded(sid: str, scope: str, limit: str) -> str | None:
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        retry = await rate_limit.hit(ctx().redis, ctx().keys, scope=scope, key=sess.get("ip", ""),
                                     limit=rate_limit.Limit.parse(limit))
        return None if retry is None else f"操作太频繁，请{retry}秒后再试。"

    @sio.on("transfer_code_request", namespace=NAMESPACE)
    async def transfer_code_request(sid: str, data: Any = None) -> dict[str, Any]:
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        if not sess.get("token"):
            return {"ok": False, "error": "当前会话不支持跨设备同步"}
        try:
            code = await ident.create_transfer_code(ctx().redis, ctx().keys, external_id=sess["session_id"])
        except ident.IdentityError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "code": code, "expires_in": ident.TRANSFER_TTL_S}

    @sio.on("transfer_code_redeem", namespace=NAMESPACE)
    async def transfer_code_redeem(sid: str, data: Any = None) -> dict[str, Any]:
        if (err := await guarded(sid, "web-xfer", "10/300")) is not None:
            return {"ok": False, "error": err}
        try:
            code = data.get("code") if isinstance(data, dict) else None
            external_id = await ident.redeem_transfer_code(ctx().redis, ctx().keys, code=code)
        except ident.IdentityError as exc:
            return {"ok": False, "error": str(exc)}
        token = identity.issue(external_id)
        await bind(sid, external_id, token=token)
        return {"ok": True, "citizen_token": token, "session_id": external_id}

    @sio.on("phone_code_request", namespace=NAMESPACE)
    async def phone_code_request(sid: str, data: Any = None) -> dict[str, Any]:
        if (err := await guarded(sid, "web-sms", "5/600")) is not None:
            return {"ok": False, "error": err}
        try:
            phone = data.get("phone") if isinstance(data, dict) else None
            masked = await ident.request_phone_code(ctx().redis, ctx().keys, identity, phone=phone,
                                                    dev_mode=ctx().settings.is_dev)
        except ident.IdentityError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "phone": masked}

    @sio.on("phone_verify", namespace=NAMESPACE)
    async def phone_verify(sid: str, data: Any = None) -> dict[str, Any]:
        sess = await sio.get_session(sid, namespace=NAMESPACE)
        data = data if isinstance(data, dict) else {}
        if not sess.get("token"):
            return {"ok": False, "error": "当前会话不支持手机号验证"}
        if (err := await guarded(sid, "web-sms-verify", "20/600")) is not None:
            return {"ok": False, "error": err}
        try:
            external_id = await ident.verify_phone(ctx().redis, ctx().keys, identity, phone=data.get("phone"),
                                                   code=data.get("code"), current_external_id=sess["session_id"])
        except ident.IdentityError as exc:
            return {"ok": False, "error": str(exc)}
        token = identity.issue(external_id)
        await bind(sid, external_id, token=token)
        return {"ok": True, "citizen_token": token, "session_id": external_id}
