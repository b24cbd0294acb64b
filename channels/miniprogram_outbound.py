"""Mini-program channel, outbound: our messages as WeChat customer-service messages.

WeChat allows only a few customer-service messages per citizen message (5 within 48 h), so
the replies of one turn are gathered for a moment and merged into as few text messages as
the length limit allows. Buttons become numbered options; the digits are remembered in
Redis so that a citizen answering "1" means the first button's payload. Each stored
message ends up ``sent`` or ``undelivered`` (with the reason), and agents are told.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from .base import OutboundMessage
from .wechat_api import SendResult, mask_openid, send_custom_message

if TYPE_CHECKING:
    from agent_desk.context import DeskContext
    from agent_desk.models import Citizen

log = logging.getLogger("desk.channels.miniprogram")

MAX_TEXT_BYTES = 2000     # WeChat caps text content at 2048 bytes; keep some headroom
GATHER_S = 0.3            # one bot turn's replies arrive within milliseconds of each other
OPTIONS_TTL_S = 48 * 3600  # as long as WeChat lets us answer at all
STOP_BATCH = (45015, 45047)  # window closed / quota used up: the rest of the batch would fail too
OPTIONS_HINT = "（请回复数字选择）"


@dataclass
class Part:
    body: dict[str, Any]          # the send-API body without ``touser``
    message_ids: tuple[int, ...]  # stored messages this WeChat message carries


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-8 bytes, preferring line breaks."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _utf8_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while _utf8_len(line) > limit:  # one very long line: cut by characters
            cut, size = 0, 0
            for ch in line:
                size += _utf8_len(ch)
                if size > limit:
                    break
                cut += 1
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pieces.append(current)
    return pieces


def render_text(out: OutboundMessage, *, first_option: int) -> tuple[str, dict[str, str]]:
    """The message text with its buttons as numbered options; returns the digit → payload map."""
    lines = [out.text.strip()] if out.text.strip() else []
    options: dict[str, str] = {}
    for number, button in enumerate(out.buttons, start=first_option):
        options[str(number)] = button.payload
        lines.append(f"{number}. {button.title}")
    if options:
        lines.append(OPTIONS_HINT)
    return "\n".join(lines), options


def _attachment_body(att: dict[str, Any]) -> dict[str, Any] | None:
    kind = str(att.get("type", "file"))
    if kind == "image" and att.get("media_id"):
        return {"msgtype": "image", "image": {"media_id": str(att["media_id"])}}
    if kind == "miniprogrampage" and att.get("pagepath") and att.get("thumb_media_id"):
        return {"msgtype": "miniprogrampage", "miniprogrampage": {
            "title": str(att.get("title") or "政务服务"), "pagepath": str(att["pagepath"]),
            "thumb_media_id": str(att["thumb_media_id"])}}
    url = att.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return {"msgtype": "link", "link": {
            "title": str(att.get("title") or ("图片" if kind == "image" else "附件")),
            "description": str(att.get("description") or "点击查看"), "url": url,
            "thumb_url": str(att.get("thumb_url") or "")}}
    return None


def build_parts(batch: list[tuple[OutboundMessage, int]]) -> tuple[list[Part], dict[str, str], bool]:
    """Merge a batch into WeChat messages; returns (parts, digit options, any bot/system message)."""
    parts: list[Part] = []
    options: dict[str, str] = {}
    saw_bot = False
    segments: list[tuple[str, int]] = []

    def flush() -> None:
        text, ids = "", list[int]()
        for seg, mid in segments:
            candidate = f"{text}\n\n{seg}" if text else seg
            if text and _utf8_len(candidate) > MAX_TEXT_BYTES:
                parts.append(Part({"msgtype": "text", "text": {"content": text}}, tuple(dict.fromkeys(ids))))
                text, ids = seg, []
            else:
                text = candidate
            ids.append(mid)
        if text:
            parts.append(Part({"msgtype": "text", "text": {"content": text}}, tuple(dict.fromkeys(ids))))
        segments.clear()

    for out, mid in batch:
        if out.sender in ("bot", "system"):
            saw_bot = True
        text, opts = render_text(out, first_option=len(options) + 1)
        options.update(opts)
        segments.extend((piece, mid) for piece in split_text(text))
        body = _attachment_body(out.attachment) if out.attachment else None
        if out.attachment and body is None:
            segments.append(("[附件暂无法在小程序中显示，请在政务服务网查看]", mid))
        if body is not None:
            flush()
            parts.append(Part(body, (mid,)))
    flush()
    return parts, options, saw_bot


class Outbox:
    """Per-worker, per-citizen send queue: keeps order, gathers a turn, merges, sends."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self.pending: dict[str, list[tuple[OutboundMessage, int]]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}

    def put(self, openid: str, out: OutboundMessage, message_id: int) -> None:
        self.pending.setdefault(openid, []).append((out, message_id))
        if openid not in self.workers:
            task = asyncio.get_running_loop().create_task(self._drain(openid))
            self.workers[openid] = task
            task.add_done_callback(_log_failure)

    async def idle(self, timeout: float = 30) -> None:
        """Wait until everything queued so far has been sent (tests and shutdown)."""
        async with asyncio.timeout(timeout):
            while self.workers:
                await asyncio.gather(*list(self.workers.values()), return_exceptions=True)

    async def _drain(self, openid: str) -> None:
        try:
            while True:
                await asyncio.sleep(GATHER_S)  # let the rest of this turn's replies join the batch
                batch = self.pending.pop(openid, None)
                if not batch:
                    return
                await send_batch(self.ctx, openid, batch)
        finally:
            self.workers.pop(openid, None)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("mini-program send task failed", exc_info=task.exception())


async def send_batch(ctx: DeskContext, openid: str, batch: list[tuple[OutboundMessage, int]]) -> None:
    parts, options, saw_bot = build_parts(batch)
    key = ctx.keys.wechat_options(openid)
    if options:
        await ctx.redis.set(key, json.dumps(options, ensure_ascii=False), ex=OPTIONS_TTL_S)
    elif saw_bot:
        await ctx.redis.delete(key)
    errors: dict[int, str] = {}
    sent: set[int] = set()
    stop: SendResult | None = None
    for part in parts:
        if stop is not None:  # no point spending quota or time: WeChat would refuse the same way
            errors.update({mid: stop.reason for mid in part.message_ids})
            continue
        result = await send_custom_message(ctx, {"touser": openid, **part.body})
        if result.ok:
            sent.update(part.message_ids)
            count_key = ctx.keys.wechat_sent_count(openid)
            await ctx.redis.incr(count_key)
            await ctx.redis.expire(count_key, OPTIONS_TTL_S)
        else:
            errors.update({mid: result.reason for mid in part.message_ids})
            if result.errcode in STOP_BATCH:
                stop = result
        log.info("wechat message sent" if result.ok else "wechat message undelivered",
                 extra={"openid": mask_openid(openid), "msgtype": part.body["msgtype"], "errcode": result.errcode,
                        "attempts": result.attempts, "message_ids": list(part.message_ids)})
    await record_delivery(ctx, sent=sent - set(errors), errors=errors)


async def record_delivery(ctx: DeskContext, *, sent: set[int], errors: dict[int, str]) -> None:
    """Store each message's delivery state; tell the agent handling the case about failures."""
    from agent_desk.models import Case, Message
    from agent_desk.services.delivery import notify_agents

    async with ctx.sessions() as session:
        if sent:
            await session.execute(update(Message).where(Message.id.in_(sent))
                                  .values(delivery="sent", delivery_error=None))
        for mid, reason in errors.items():
            await session.execute(update(Message).where(Message.id == mid)
                                  .values(delivery="undelivered", delivery_error=reason))
        rows: list[Any] = []
        if errors:
            rows = list((await session.execute(
                select(Message.id, Case.id, Case.agent_id).join(Case, Case.conversation_id == Message.conversation_id)
                .where(Message.id.in_(list(errors))))).all())
        await session.commit()
    for mid, case_id, agent_id in rows:
        await notify_agents(ctx, "message_delivery", {"case_id": case_id, "message_id": mid,
                                                      "delivery": "undelivered", "delivery_error": errors[mid]},
                            agent_id=agent_id)


async def send_to_citizen(ctx: DeskContext, citizen: Citizen, out: OutboundMessage, message_id: int) -> None:
    """The sender registered for channel "miniprogram": queue now, send within a moment."""
    outbox: Outbox = ctx.extras.setdefault("wechat_outbox", Outbox(ctx))
    outbox.put(citizen.external_id, out, message_id)
