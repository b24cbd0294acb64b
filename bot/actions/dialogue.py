"""Greeting, goodbye, handoff, out-of-scope and input-problem replies.

Texts come from data/kb/_dialogue.yml so that wording changes need no retrain.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_follow_up
from actions.fallback import send_fallback
from actions.kb import get_kb
from actions.reply import send


def _popular_buttons(kb, limit: int = 4) -> List[tuple]:
    return [(kb.topics[t].title, f"/{t}") for t in kb.dialogue.get("popular_topics", [])[:limit] if t in kb.topics]


class _UsesKnowledgeBase:
    """Loads the knowledge base when rasa_sdk instantiates the action at start-up.

    Deliberately not an Action subclass: rasa_sdk registers every concrete
    Action subclass it finds.
    """

    def __init__(self) -> None:
        self.kb = get_kb()


class ActionGreet(_UsesKnowledgeBase, Action):
    def name(self) -> Text:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        if answer_follow_up(dispatcher, self.kb, tracker):  # "要多久啊亲" read as a greeting
            return []
        send(
            dispatcher,
            text=self.kb.text("greet", categories="、".join(self.kb.categories())),
            kind="greet",
            topic="greet",
            buttons=_popular_buttons(self.kb),
        )
        return []


class ActionGoodbye(_UsesKnowledgeBase, Action):
    def name(self) -> Text:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        send(dispatcher, text=self.kb.text("goodbye"), kind="goodbye", topic="goodbye")
        return []


class ActionHandoff(_UsesKnowledgeBase, Action):
    """The desk opens the case when it sees metadata.handoff; the bot only says so."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        send(dispatcher, text=self.kb.text("handoff"), kind="handoff", topic="human_handoff", handoff=True)
        return []


# The refusal says what the question seemed to be about only when the sub-kind
# selector is this sure (calibrated probability): naming the wrong subject
# ("似乎与美食有关" for a phone question) reads worse than the generic sentence.
NAME_KIND_MIN_CONFIDENCE = 0.5
# Below this intent confidence "not a government matter" is itself a guess: an injured worker's
# "干活时从脚手架上摔下来了" must not be refused as a phone question. The citizen gets the
# did-not-understand reply with the three likeliest topics instead (a miss, as it should count).
OUT_OF_SCOPE_MIN_CONFIDENCE = 0.6


def out_of_scope_subtype(tracker: Tracker) -> Optional[str]:
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    chosen = (selector.get("out_of_scope") or {}).get("response") or {}
    key = chosen.get("intent_response_key") or ""
    if "/" not in key or float(chosen.get("confidence") or 0.0) < NAME_KIND_MIN_CONFIDENCE:
        return None
    return key.split("/", 1)[1]


class ActionOutOfScope(_UsesKnowledgeBase, Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        if answer_follow_up(dispatcher, self.kb, tracker):
            return []
        confidence = float((((tracker.latest_message or {}).get("intent") or {}).get("confidence")) or 0.0)
        if confidence < OUT_OF_SCOPE_MIN_CONFIDENCE:
            send_fallback(dispatcher, tracker, self.kb)
            return []
        labels = self.kb.dialogue.get("out_of_scope_kinds") or {}
        subtype = out_of_scope_subtype(tracker)
        heard = labels.get(subtype or "")
        if subtype == "chitchat":
            intro = self.kb.text("out_of_scope_about_me")
        elif heard:
            intro = self.kb.text("out_of_scope_heard", heard=heard)
        else:
            intro = self.kb.text("out_of_scope_generic")
        text = intro + self.kb.text("out_of_scope_scope", categories="、".join(self.kb.categories()))
        send(dispatcher, text=text, kind="out_of_scope", topic="out_of_scope", buttons=_popular_buttons(self.kb, 3))
        return []


class ActionInputProblem(_UsesKnowledgeBase, Action):
    """Empty message or one the normaliser had to cut."""

    def name(self) -> Text:
        return "action_input_problem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "input_too_long":
            send(dispatcher, text=self.kb.text("too_long"), kind="too_long")
        else:
            send(dispatcher, text=self.kb.text("empty"), kind="empty", buttons=_popular_buttons(self.kb, 3))
        return []
