"""Last pipeline step: turn input problems into explicit intents, mask PII.

* empty text (only whitespace/controls)  -> intent ``input_empty``
* text cut by the normaliser             -> intent ``input_too_long``
* a bare tracking number ("SL20261203-0001", "编号sl20261203-0001") -> ``case_status``
* phone and ID-number entity values are masked so the tracker never holds them.

These are deterministic decisions, not learned ones, so they are made here
rather than by teaching DIET what an empty string means.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from channels.normalize import mask_pii

from components.normalizer import NORMALIZATION_KEY
from components.stateless import StatelessComponent

PII_ENTITIES = {"phone", "id_number"}
# What may surround a tracking number in a message that says nothing else.
_FILLER_RE = re.compile(r"[\s,.。，:：!！?？()（）\[\]【】\"'“”]|我的|编号|受理号|单号|号码|是|查询|查一下|帮我查")


def _forced(name: Text) -> Dict[Text, Any]:
    return {"name": name, "confidence": 1.0}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputGuard(StatelessComponent):

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._mask_entities(message)
            forced = self._forced_intent(message)
            if forced:
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != forced]
                message.set(INTENT, _forced(forced), add_to_output=True)
                message.set(INTENT_RANKING_KEY, [_forced(forced)] + ranking, add_to_output=True)
        return messages

    @staticmethod
    def _mask_entities(message: Message) -> None:
        entities = message.get(ENTITIES) or []
        for ent in entities:
            if ent.get("entity") in PII_ENTITIES and isinstance(ent.get("value"), str):
                ent["value"] = mask_pii(ent["value"])

    @staticmethod
    def _forced_intent(message: Message) -> Text:
        text = message.get(TEXT) or ""
        if text.startswith("/"):
            return ""  # button payloads are resolved by Rasa itself
        info = message.get(NORMALIZATION_KEY) or {}
        if info.get("is_empty") or not text.strip():
            return "input_empty"
        if info.get("too_long"):
            return "input_too_long"
        numbers = [e for e in message.get(ENTITIES) or [] if e.get("entity") == "tracking_no"]
        if numbers:
            rest = text
            for ent in sorted(numbers, key=lambda e: e["start"], reverse=True):
                rest = rest[: ent["start"]] + rest[ent["end"] :]
            if len(_FILLER_RE.sub("", rest)) <= 2:
                return "case_status"
        return ""
