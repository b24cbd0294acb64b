"""Client for the desk's internal case API (the desk is ours; see DESIGN.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

DEFAULT_DESK_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 5


class DeskUnavailable(Exception):
    """The desk could not be reached or answered with an unexpected status."""


@dataclass(frozen=True)
class DeskConfig:
    base_url: str
    token: str

    @classmethod
    def from_env(cls) -> "DeskConfig":
        return cls(
            base_url=os.environ.get("DESK_URL", DEFAULT_DESK_URL).rstrip("/"),
            token=os.environ.get("DESK_SERVICE_TOKEN", ""),
        )


async def fetch_case(tracking_no: str, config: Optional[DeskConfig] = None,
                     citizen_id: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """The case as the desk reports it, or None when the desk says 404.

    With ``citizen_id`` (from the desk's message metadata) the desk only reveals the case to
    the citizen it belongs to, so tracking numbers cannot be enumerated by strangers.
    """
    config = config or DeskConfig.from_env()
    url = f"{config.base_url}/api/internal/cases/{quote(tracking_no, safe='')}"
    if citizen_id is not None:
        url += f"?citizen_id={int(citizen_id)}"
    headers = {"Authorization": f"Bearer {config.token}", "Accept": "application/json"}
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, headers=headers) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise DeskUnavailable(f"desk answered HTTP {response.status}")
                body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise DeskUnavailable(str(exc) or type(exc).__name__) from exc
    if not isinstance(body, dict):
        raise DeskUnavailable("desk answered with a non-object body")
    return body
