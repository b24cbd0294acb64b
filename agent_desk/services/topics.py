"""Topic ids as people read them: knowledge topics by their title, dialogue intents by a label.

Titles come from the bot's knowledge base in this repository (``data/kb/<topic id>.yml``,
field ``title``), the same files the action server answers from, so a renamed topic is
renamed everywhere at once. They are read on first use, not at import.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Message
from ..settings import ROOT

log = logging.getLogger("desk.topics")

KB_DIR = ROOT / "data" / "kb"

# The bot's dialogue intents (and reply topics) are no subject of a case; in a transcript
# they still say what the bot was doing.
DIALOGUE_LABELS = {
    "greet": "问候",
    "goodbye": "告别",
    "human_handoff": "转人工",
    "case_status": "办件进度查询",
    "out_of_scope": "超出服务范围",
    "nlu_fallback": "未能识别",
    "input_empty": "空消息",
    "input_too_long": "消息过长",
}


@lru_cache(maxsize=4)
def knowledge_titles(kb_dir: Path = KB_DIR) -> dict[str, str]:
    titles: dict[str, str] = {}
    for path in sorted(kb_dir.glob("*.yml")):
        if path.name.startswith("_"):  # _dialogue.yml: reply texts, not a topic
            continue
        entry = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if entry.get("id") and entry.get("title"):
            titles[str(entry["id"])] = str(entry["title"])
    if not titles:
        log.warning("no knowledge topics found; topic ids are shown as they are", extra={"kb_dir": str(kb_dir)})
    return titles


def is_knowledge_topic(topic: str | None) -> bool:
    return bool(topic) and topic in knowledge_titles()


def topic_title(topic: str | None) -> str | None:
    """The title of a knowledge topic; None for dialogue intents and nothing."""
    return knowledge_titles().get(topic) if topic else None


def topic_label(topic: str | None) -> str | None:
    """What a transcript shows for a reply's topic: its title, a dialogue label, or the id itself."""
    if not topic:
        return None
    return knowledge_titles().get(topic) or DIALOGUE_LABELS.get(topic) or topic


# conversation id -> its last knowledge topic (or None). Only asked for conversations that were
# handed off, and the bot never speaks in one again after that, so an answer never changes;
# the workspace asks for the same few hundred cases on every queue change.
_known: OrderedDict[int, str | None] = OrderedDict()
KNOWN_MAX = 50_000


async def last_knowledge_topics(session: AsyncSession, conversation_ids: Iterable[int]) -> dict[int, str]:
    """Per handed-off conversation, the knowledge topic the bot last answered (from the stored replies).

    A case's own ``topic`` is the conversation's last reply topic, which is often the handoff
    or goodbye intent; the question the citizen came with is the last knowledge topic.
    """
    ids = sorted(set(conversation_ids))
    missing = [i for i in ids if i not in _known]
    for start in range(0, len(missing), 500):
        chunk = missing[start:start + 500]
        found: dict[int, str | None] = dict.fromkeys(chunk)
        rows = await session.execute(
            select(Message.conversation_id, Message.payload)
            .where(Message.conversation_id.in_(chunk), Message.sender == "bot")
            .order_by(Message.id))
        for conversation_id, payload in rows:
            topic = ((payload or {}).get("metadata") or {}).get("topic")
            if isinstance(topic, str) and is_knowledge_topic(topic):
                found[conversation_id] = topic
        _known.update(found)
    while len(_known) > KNOWN_MAX:
        _known.popitem(last=False)
    return {i: t for i in ids if (t := _known.get(i)) is not None}
