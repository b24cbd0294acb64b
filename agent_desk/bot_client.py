"""Talks to the Rasa server over its REST channel; never imports rasa."""
from __future__ import annotations

from typing import Any

import httpx

from channels.base import Button, OutboundMessage


class BotUnavailable(Exception):
    """Rasa could not be reached or answered with an error; the desk hands off."""


def parse_bot_replies(raw: Any) -> list[OutboundMessage]:
    """Turn Rasa REST-channel output into outbound messages.

    Our actions send one ``custom`` payload per utterance ({text, buttons, metadata}); plain
    ``text``/``buttons``/``image`` entries (domain responses) are accepted too.
    """
    if not isinstance(raw, list):
        raise BotUnavailable(f"unexpected bot reply shape: {type(raw).__name__}")
    out: list[OutboundMessage] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        src = custom if isinstance(custom, dict) else item
        text = str(src.get("text") or "")
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in (src.get("buttons") or [])
            if isinstance(b, dict)
        )
        metadata = dict(src.get("metadata") or {}) if isinstance(src.get("metadata"), dict) else {}
        attachment = None
        if item.get("image"):
            attachment = {"type": "image", "url": str(item["image"])}
        if isinstance(custom, dict) and not text and not buttons and not metadata:
            metadata = {"custom": custom}
        if text or buttons or attachment or metadata:
            out.append(OutboundMessage(sender="bot", text=text, buttons=buttons,
                                       attachment=attachment, metadata=metadata))
    return out


class BotClient:
    def __init__(self, http: httpx.AsyncClient, *, base_url: str, token: str, timeout_s: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    async def converse(self, *, sender_id: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        try:
            resp = await self.http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise BotUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise BotUnavailable(f"bot answered HTTP {resp.status_code}")
        try:
            return parse_bot_replies(resp.json())
        except ValueError as exc:
            raise BotUnavailable("bot answered malformed JSON") from exc

    async def status(self) -> dict[str, Any]:
        params = {"token": self.token} if self.token else {}
        resp = await self.http.get(f"{self.base_url}/status", params=params, timeout=3)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data
