"""Answer a knowledge topic from data/kb/<topic>.yml."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.kb import KnowledgeBase, Topic, get_kb
from actions.reply import send

MAX_RELATED_BUTTONS = 3


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    for ent in (tracker.latest_message or {}).get("entities") or []:
        if ent.get("entity") == name and ent.get("value"):
            return str(ent["value"])
    return None


def render_topic(kb: KnowledgeBase, topic: Topic, *, district: Optional[str] = None) -> str:
    lines = [f"【{topic.title}】", topic.summary, f"办理条件：{topic.conditions}", "所需材料："]
    lines += [f"{i}. {m}" for i, m in enumerate(topic.materials, 1)]
    lines.append(f"网上办理：{topic.online}")
    lines.append(f"现场办理：{topic.offline}")
    branch = (kb.dialogue.get("districts") or {}).get(district or "")
    if branch:
        lines.append(f"您提到{district}，也可就近到{branch}办理。")
    lines.append(f"办理时限：{topic.time_limit.rstrip('。')}；收费：{topic.fee}")
    lines.append(f"政策依据：{topic.policy}（{topic.effective_date}起施行）。具体以窗口最新要求为准。")
    return "\n".join(lines)


def related_buttons(kb: KnowledgeBase, topic: Topic) -> List[tuple]:
    buttons = []
    for rid in topic.related[:MAX_RELATED_BUTTONS]:
        related = kb.get(rid)
        if related:
            buttons.append((related.title, f"/{rid}"))
    return buttons


class ActionAnswerTopic(Action):
    def __init__(self) -> None:
        self.kb = get_kb()  # fail at action-server start, not on the first question

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        topic = self.kb.get(intent)
        if topic is None:
            # A rule sent a non-topic intent here: treat it like not understanding.
            from actions.fallback import send_fallback

            send_fallback(dispatcher, tracker, self.kb)
            return []
        send(
            dispatcher,
            text=render_topic(self.kb, topic, district=latest_entity(tracker, "district")),
            kind="answer",
            topic=topic.id,
            buttons=related_buttons(self.kb, topic),
            related=topic.related,
            source=topic.source,
        )
        return []
