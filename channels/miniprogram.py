"""Mini-program channel, inbound: WeChat's customer-service message push (小程序客服消息).

GET  /webhooks/miniprogram  server URL verification (signature over token, timestamp, nonce).
POST /webhooks/miniprogram  a pushed message, JSON or XML (WECHAT_MSG_FORMAT); safe mode
                            (body carries Encrypt, msg_signature) when WECHAT_AES_KEY is set,
                            plain mode (signature) otherwise.

WeChat retries a push that is not answered within 5 s, three times. So the push is verified,
deduplicated in Redis (SET NX with a TTL, shared by all workers) and answered ``success`` at
once; the message is processed by a background task. Outbound: ``miniprogram_outbound``, and
``miniprogram_resend`` for what a worker stored but never sent.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import unicodedata
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring
from sanic import Blueprint, Request, text

from . import miniprogram_resend
from .base import Button, InboundMessage, OutboundMessage, text_of
from .miniprogram_outbound import send_to_citizen
from .wechat_api import mask_openid
from .wechat_crypto import AppIdError, CryptoError, SignatureError, WeChatCrypto, signature_matches

if TYPE_CHECKING:
    from sanic import HTTPResponse, Sanic

    from agent_desk.context import DeskContext

__all__ = ["register", "send_to_citizen"]

log = logging.getLogger("desk.channels.miniprogram")
PATH = "/webhooks/miniprogram"
MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW_S = 300      # pushes signed further from now than this are replays
DEDUPE_TTL_S = 24 * 3600    # WeChat retries within ~15 s; a day leaves room for clock trouble
GREETED_TTL_S = 48 * 3600
OPENID_RE = re.compile(r"^[A-Za-z0-9_\-]{6,64}$")
DIGIT_RE = re.compile(r"^\d{1,2}$")
NOT_TEXT = "a text message's Content must be a string"
GREETING = OutboundMessage(
    sender="system",
    text="您好，欢迎使用政务服务智能客服！请直接输入您要咨询的事项，例如“社保卡丢了怎么补办”。",
    buttons=(Button(title="转人工客服", payload="/human_handoff"),),
    metadata={"event": "greeting"},
)

_tasks: set[asyncio.Task[None]] = set()


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def parse_body(body: bytes, fmt: str) -> dict[str, str]:
    """A push body (or a decrypted safe-mode message) as flat str fields; Rejected(400) if it is not ``fmt``."""
    try:
        if fmt == "xml":
            root = xml_fromstring(body.decode("utf-8"), forbid_dtd=True)
            if root.tag != "xml":
                raise Rejected(400, "XML root element must be <xml>")
            content = root.find("Content")
            if root.findtext("MsgType") == "text" and content is not None and len(content):
                raise Rejected(400, NOT_TEXT)
            return {child.tag: child.text or "" for child in root if len(child) == 0}
        data = json.loads(body.decode("utf-8"))
    except Rejected:
        raise
    except (DefusedXmlException, ParseError, UnicodeDecodeError, ValueError) as exc:
        raise Rejected(400, f"body is not valid {fmt.upper()} (WECHAT_MSG_FORMAT={fmt})") from exc
    if not isinstance(data, dict):
        raise Rejected(400, "JSON body must be an object")
    if data.get("MsgType") == "text" and "Content" in data:
        # WeChat sends the text as a string; a number is taken as its digits, anything else
        # (null, a list, an object) is refused rather than stored as an empty or "[...]" message.
        content = text_of(data["Content"])
        if content is None:
            raise Rejected(400, NOT_TEXT)
        data["Content"] = content
    return {str(k): v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v)
            for k, v in data.items() if v is not None}


def authenticate(ctx: DeskContext, args: dict[str, str], body: bytes) -> dict[str, str]:
    """Verify a push and return the message fields, or raise Rejected."""
    s = ctx.settings
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not nonce:
        raise Rejected(403, "timestamp and nonce are required")
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise Rejected(403, "stale timestamp")
    fields = parse_body(body, s.wechat_msg_format)
    if not s.wechat_aes_key:
        if "Encrypt" in fields:
            raise Rejected(400, "safe-mode push but WECHAT_AES_KEY is not configured")
        if not signature_matches(args.get("signature"), s.wechat_token, timestamp, nonce):
            raise Rejected(403, "signature mismatch")
        return fields
    encrypt = fields.get("Encrypt")
    if not encrypt:
        raise Rejected(400, "safe mode: body must carry Encrypt")
    if not args.get("msg_signature"):
        raise Rejected(403, "safe mode: msg_signature is required")
    crypto = WeChatCrypto(s.wechat_token, s.wechat_aes_key, s.wechat_appid)
    try:
        crypto.verify(args.get("msg_signature"), timestamp, nonce, encrypt)
        plain = crypto.decrypt(encrypt)
    except AppIdError as exc:
        raise Rejected(403, "message is for another appid") from exc
    except SignatureError as exc:
        raise Rejected(403, str(exc)) from exc
    except CryptoError as exc:
        raise Rejected(400, str(exc)) from exc
    return parse_body(plain.encode("utf-8"), s.wechat_msg_format)


def dedupe_key(msg: dict[str, str]) -> str:
    openid = msg["FromUserName"]
    if msg.get("MsgId"):
        return f"{openid}:msg:{msg['MsgId']}"
    if msg.get("MsgType") == "event":
        return f"{openid}:event:{msg.get('CreateTime', '')}:{msg.get('Event', '')}"
    digest = hashlib.sha1(json.dumps(msg, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return f"{openid}:raw:{msg.get('CreateTime', '')}:{digest}"


async def verify_url(request: Request) -> HTTPResponse:
    s = request.app.ctx.desk.settings
    if not s.wechat_token:
        return text("mini-program channel is not configured", status=503)
    a = request.args
    timestamp, nonce, echostr = a.get("timestamp", ""), a.get("nonce", ""), a.get("echostr", "")
    if timestamp and nonce and echostr and signature_matches(a.get("signature"), s.wechat_token, timestamp, nonce):
        return text(echostr[:256])
    log.warning("wechat url verification rejected", extra={"reason": "signature mismatch"})
    return text("forbidden", status=403)


async def receive(request: Request) -> HTTPResponse:
    ctx: DeskContext = request.app.ctx.desk
    if not ctx.settings.wechat_token:
        return text("mini-program channel is not configured", status=503)
    if len(request.body or b"") > MAX_BODY_BYTES:
        return text("body too large", status=413)
    try:
        msg = authenticate(ctx, {k: request.args.get(k, "") for k in request.args}, request.body or b"")
        if not OPENID_RE.match(msg.get("FromUserName", "")) or not msg.get("MsgType"):
            raise Rejected(400, "FromUserName and MsgType are required")
    except Rejected as exc:
        log.warning("wechat push rejected", extra={"status": exc.status, "reason": str(exc)})
        return text(str(exc), status=exc.status)
    key = ctx.keys.dedupe("miniprogram", dedupe_key(msg))
    fresh = await asyncio.wait_for(ctx.redis.set(key, "1", nx=True, ex=DEDUPE_TTL_S), timeout=2)
    log.info("wechat push accepted", extra={"openid": mask_openid(msg["FromUserName"]), "msg_type": msg["MsgType"],
                                            "duplicate": not fresh})
    if fresh:
        task = asyncio.get_running_loop().create_task(process(ctx, msg, key))
        _tasks.add(task)  # a reference, or the loop may drop the task half-way
        task.add_done_callback(_task_done)
    # Never a passive reply: the answer goes out through the customer-service API.
    return text("success")


def _task_done(task: asyncio.Task[None]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("mini-program message processing failed", exc_info=task.exception())


async def process(ctx: DeskContext, msg: dict[str, str], key: str) -> None:
    from agent_desk.services.router import handle_inbound

    openid = msg["FromUserName"]
    try:
        # A citizen message re-opens WeChat's allowance of customer-service messages.
        await ctx.redis.delete(ctx.keys.wechat_sent_count(openid))
        if msg["MsgType"] == "event":
            await handle_event(ctx, msg)
        else:
            await handle_inbound(ctx, await to_inbound(ctx, msg))
    except Exception:
        await ctx.redis.delete(key)  # let WeChat's retry try again; the DB dedupes what was stored
        raise


async def to_inbound(ctx: DeskContext, msg: dict[str, str]) -> InboundMessage:
    openid, mtype = msg["FromUserName"], msg["MsgType"]
    base: dict[str, Any] = {"channel": "miniprogram", "external_user_id": openid,
                            "source_id": msg.get("MsgId") or dedupe_key(msg)[len(openid) + 1:][:128]}
    if mtype == "text":
        content = msg.get("Content", "")
        option = unicodedata.normalize("NFKC", content).strip()
        if DIGIT_RE.match(option):
            raw = await ctx.redis.get(ctx.keys.wechat_options(openid))
            payload = json.loads(raw).get(str(int(option))) if raw else None
            if payload:
                return InboundMessage(**base, text=payload, metadata={"option": option})
        return InboundMessage(**base, text=content)
    if mtype == "image":
        return InboundMessage(**base, kind="image", text="[图片]", payload={"attachment": {
            "type": "image", "url": msg.get("PicUrl", ""), "media_id": msg.get("MediaId", "")}})
    if mtype == "miniprogrampage":
        title = msg.get("Title", "")
        return InboundMessage(**base, kind="card", text=f"[小程序卡片] {title}".strip(), payload={"attachment": {
            "type": "miniprogrampage", "title": title, "appid": msg.get("AppId", ""),
            "pagepath": msg.get("PagePath", ""), "thumb_url": msg.get("ThumbUrl", ""),
            "thumb_media_id": msg.get("ThumbMediaId", "")}})
    return InboundMessage(**base, kind="unknown", text="", payload={"wechat_msg_type": mtype[:32]})


async def handle_event(ctx: DeskContext, msg: dict[str, str]) -> None:
    """Events are stored; entering the chat greets the citizen, once per conversation."""
    from sqlalchemy import select

    from agent_desk.models import ConversationStatus, Message
    from agent_desk.services.delivery import deliver_to_citizen
    from agent_desk.services.messages import store_message, store_outbound
    from agent_desk.services.router import get_or_create_citizen, open_conversation

    openid, event = msg["FromUserName"], msg.get("Event", "")[:48]
    source_id = dedupe_key(msg)[len(openid) + 1:][:128]
    async with ctx.redis.lock(ctx.keys.citizen_lock("miniprogram", openid), timeout=60, blocking_timeout=60):
        async with ctx.sessions() as session:
            citizen = await get_or_create_citizen(session, channel="miniprogram", external_id=openid)
            if (await session.execute(select(Message.id).where(
                    Message.citizen_id == citizen.id, Message.source_id == source_id))).first():
                return
            conv = await open_conversation(session, citizen=citizen)
            await store_message(session, conversation=conv, sender="citizen", kind="event", text="",
                                payload={"event": event, "session_from": msg.get("SessionFrom", "")[:128]},
                                source_id=source_id)
            greet = (event == "user_enter_tempsession" and conv.status == ConversationStatus.bot
                     and bool(await ctx.redis.set(ctx.keys.wechat_greeted(conv.id), "1", nx=True,
                                                  ex=GREETED_TTL_S)))
            reply = await store_outbound(session, conversation=conv, out=GREETING) if greet else None
            await session.commit()
    if reply is not None:
        out = OutboundMessage(sender=GREETING.sender, text=GREETING.text, buttons=GREETING.buttons,
                              metadata={**GREETING.metadata, "message_id": reply.id})
        await deliver_to_citizen(ctx, citizen=citizen, out=out, message_id=reply.id)


def register(app: Sanic) -> None:
    from agent_desk.routes import miniprogram_info

    bp = Blueprint("miniprogram")
    bp.add_route(verify_url, PATH, methods=["GET"], strict_slashes=False)
    bp.add_route(receive, PATH, methods=["POST"], strict_slashes=False)
    app.blueprint(bp)
    app.blueprint(miniprogram_info.make_blueprint())
    miniprogram_resend.install(app)
