"""Knowledge base: one YAML file per topic id under data/kb/.

Answers are rendered from these files at run time, so editing a file needs an
action-server restart, not a retrain. The directory comes from ``KB_DIR``
(default: ``data/kb`` at the repository root); a missing or invalid knowledge
base raises ``KnowledgeBaseError`` when the action server starts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

DIALOGUE_INTENTS = ("greet", "goodbye", "human_handoff", "case_status", "out_of_scope")
# Intents that exist for the pipeline's own reasons and are never a topic.
NON_TOPIC_INTENTS = set(DIALOGUE_INTENTS) | {"nlu_fallback", "input_empty", "input_too_long"}
REQUIRED_FIELDS = (
    "id",
    "title",
    "category",
    "summary",
    "conditions",
    "materials",
    "online",
    "offline",
    "time_limit",
    "fee",
    "source",
    "related",
)
DIALOGUE_FILE = "_dialogue.yml"


class KnowledgeBaseError(RuntimeError):
    """The knowledge base directory is missing or an entry is malformed."""


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    category: str
    summary: str
    conditions: str
    materials: List[str]
    online: str
    offline: str
    time_limit: str
    fee: str
    policy: str
    effective_date: str
    related: List[str]

    @property
    def source(self) -> Dict[str, str]:
        return {"policy": self.policy, "effective_date": self.effective_date}


@dataclass(frozen=True)
class KnowledgeBase:
    directory: Path
    topics: Mapping[str, Topic]
    dialogue: Mapping[str, Any]

    def get(self, topic_id: Optional[str]) -> Optional[Topic]:
        return self.topics.get(topic_id or "")

    def categories(self) -> List[str]:
        return list(self.dialogue.get("categories") or [])

    def text(self, key: str, **values: Any) -> str:
        template = self.dialogue.get("texts", {}).get(key)
        if not isinstance(template, str):
            raise KnowledgeBaseError(f"{DIALOGUE_FILE} has no text '{key}'")
        return template.format(**values) if values else template


def default_kb_dir() -> Path:
    configured = os.environ.get("KB_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "data" / "kb"


def _topic_from_yaml(path: Path, raw: Any) -> Topic:
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping")
    missing = [f for f in REQUIRED_FIELDS if raw.get(f) in (None, "", [])]
    if missing:
        raise KnowledgeBaseError(f"{path}: missing fields {missing}")
    if raw["id"] != path.stem:
        raise KnowledgeBaseError(f"{path}: id '{raw['id']}' does not match the file name")
    source = raw["source"]
    if not isinstance(source, dict) or not source.get("policy") or not source.get("effective_date"):
        raise KnowledgeBaseError(f"{path}: source needs policy and effective_date")
    materials = raw["materials"]
    if not isinstance(materials, list):
        raise KnowledgeBaseError(f"{path}: materials must be a list")
    return Topic(
        id=raw["id"],
        title=str(raw["title"]).strip(),
        category=str(raw["category"]).strip(),
        summary=str(raw["summary"]).strip(),
        conditions=str(raw["conditions"]).strip(),
        materials=[str(m).strip() for m in materials],
        online=str(raw["online"]).strip(),
        offline=str(raw["offline"]).strip(),
        time_limit=str(raw["time_limit"]).strip(),
        fee=str(raw["fee"]).strip(),
        policy=str(source["policy"]).strip(),
        effective_date=str(source["effective_date"]).strip(),
        related=[str(r) for r in raw["related"]],
    )


def load_kb(directory: Path) -> KnowledgeBase:
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeBaseError(f"knowledge base directory {directory} does not exist (set KB_DIR)")
    topics: Dict[str, Topic] = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        with path.open(encoding="utf-8") as handle:
            topic = _topic_from_yaml(path, yaml.safe_load(handle))
        topics[topic.id] = topic
    if not topics:
        raise KnowledgeBaseError(f"knowledge base directory {directory} holds no topic files")
    for topic in topics.values():
        unknown = [r for r in topic.related if r not in topics]
        if unknown:
            raise KnowledgeBaseError(f"{topic.id}: related topics {unknown} have no KB entry")
    dialogue_path = directory / DIALOGUE_FILE
    if not dialogue_path.is_file():
        raise KnowledgeBaseError(f"{dialogue_path} is missing")
    with dialogue_path.open(encoding="utf-8") as handle:
        dialogue = yaml.safe_load(handle) or {}
    listed = set(dialogue.get("categories") or [])
    unlisted = sorted({t.category for t in topics.values()} - listed)
    if unlisted:
        raise KnowledgeBaseError(f"{DIALOGUE_FILE}: categories {unlisted} are not listed under 'categories'")
    return KnowledgeBase(directory=directory, topics=topics, dialogue=dialogue)


@lru_cache(maxsize=None)
def _cached(directory: str) -> KnowledgeBase:
    return load_kb(Path(directory))


def get_kb() -> KnowledgeBase:
    """The knowledge base of ``KB_DIR``, loaded once per process."""
    return _cached(str(default_kb_dir().resolve()))
