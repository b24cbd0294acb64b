"""Did-not-understand reply: offer the three most likely knowledge topics.

Every such reply carries metadata.fallback=true; the desk counts consecutive
fallbacks and hands the citizen to an agent on the second one.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_follow_up
from actions.kb import NON_TOPIC_INTENTS, KnowledgeBase, get_kb
from actions.reply import send

SUGGESTIONS = 3


def suggested_topics(tracker: Tracker, kb: KnowledgeBase, limit: int = SUGGESTIONS) -> List[str]:
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    picked: List[str] = []
    for item in ranking:
        name = item.get("name")
        if name in NON_TOPIC_INTENTS or name in picked or kb.get(name) is None:
            continue
        picked.append(name)
        if len(picked) == limit:
            break
    # Too few knowledge topics in the ranking (e.g. it was all chit-chat):
    # top up with the service centre's most asked topics.
    for name in kb.dialogue.get("popular_topics", []):
        if len(picked) >= limit:
            break
        if name not in picked and kb.get(name) is not None:
            picked.append(name)
    return picked


def send_fallback(dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Dict[str, Any]:
    topics = suggested_topics(tracker, kb)
    return send(
        dispatcher,
        text=kb.text("fallback"),
        kind="fallback",
        buttons=[(kb.topics[t].title, f"/{t}") for t in topics],
        fallback=True,
        related=topics,
    )


class ActionTopicFallback(Action):
    def __init__(self) -> None:
        self.kb = get_kb()

    def name(self) -> Text:
        return "action_topic_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if not answer_follow_up(dispatcher, self.kb, tracker):
            send_fallback(dispatcher, tracker, self.kb)
        return []
