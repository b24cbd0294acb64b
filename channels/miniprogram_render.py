"""Mini-program channel: our messages as WeChat customer-service message bodies (pure, no I/O).

WeChat allows only a few customer-service messages per citizen message (5 within 48 h), so one
turn's replies are merged into as few text messages as the length limit allows. Buttons become
numbered options; the caller remembers the digits so that a citizen answering "1" means the
first button's payload.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import OutboundMessage

MAX_TEXT_BYTES = 2000     # WeChat caps text content at 2048 bytes; keep some headroom
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
