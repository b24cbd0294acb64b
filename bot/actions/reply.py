"""The one shape every bot utterance takes on its way to the desk.

Rasa's REST channel returns ``json_message`` as ``{"recipient_id", "custom": {...}}``;
the desk relays ``custom`` to the citizen's channel. See docs/bot.md.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rasa_sdk.executor import CollectingDispatcher

KINDS = {
    "answer",
    "menu",
    "greet",
    "goodbye",
    "handoff",
    "fallback",
    "out_of_scope",
    "case_status",
    "too_long",
    "empty",
}


def build_payload(
    *,
    text: str,
    kind: str,
    topic: Optional[str] = None,
    buttons: Iterable[Tuple[str, str]] = (),
    fallback: bool = False,
    handoff: bool = False,
    related: Sequence[str] = (),
    source: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}")
    button_list: List[Dict[str, str]] = [{"title": title, "payload": payload} for title, payload in buttons]
    return {
        "text": text,
        "buttons": button_list,
        "metadata": {
            "topic": topic,
            "kind": kind,
            "fallback": fallback,
            "handoff": handoff,
            "related": list(related),
            "source": {
                "policy": (source or {}).get("policy", ""),
                "effective_date": str((source or {}).get("effective_date", "")),
            },
        },
    }


def send(dispatcher: CollectingDispatcher, **kwargs: Any) -> Dict[str, Any]:
    payload = build_payload(**kwargs)
    dispatcher.utter_message(json_message=payload)
    return payload
