"""First pipeline step: run the shared citizen-text normaliser.

Placed before the tokenizer so that ``/model/parse`` with traditional
characters, full-width letters or glued emoji sees the same text the model was
trained on.  The result flags (empty / too long) are kept on the message for
``InputGuard`` at the end of the pipeline.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.stateless import StatelessComponent
from channels.normalize import DEFAULT_MAX_LEN, normalize_text

NORMALIZATION_KEY = "normalization"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TextNormalizer(StatelessComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_len": DEFAULT_MAX_LEN}

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._max_len = int(self._config["max_len"])


    def _normalize_message(self, message: Message, *, training: bool) -> None:
        raw = message.get(TEXT)
        if not isinstance(raw, str):
            return
        result = normalize_text(raw, max_len=self._max_len)
        if training and result.text != raw and message.get(ENTITIES):
            message.set(ENTITIES, _relocate_entities(message.get(ENTITIES), raw, result.text, self._max_len))
        message.set(TEXT, result.text)
        if not training:
            message.set(
                NORMALIZATION_KEY,
                {
                    "is_empty": result.is_empty,
                    "too_long": result.too_long,
                    "original_length": result.original_length,
                },
                add_to_output=True,
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize_message(message, training=True)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize_message(message, training=False)
        return messages


def _relocate_entities(
    entities: List[Dict[Text, Any]], old_text: Text, new_text: Text, max_len: int
) -> List[Dict[Text, Any]]:
    """Find annotated entity spans again after normalisation moved them."""
    relocated = []
    cursor = 0
    for ent in sorted(entities, key=lambda e: e.get("start", 0)):
        old_surface = old_text[ent.get("start", 0) : ent.get("end", 0)]
        surface = normalize_text(old_surface, max_len=max_len).text
        if not surface:
            continue
        start = new_text.find(surface, cursor)
        if start < 0:
            continue
        new_ent = dict(ent)
        new_ent.update(start=start, end=start + len(surface))
        if new_ent.get("value") == old_surface:
            new_ent["value"] = surface
        relocated.append(new_ent)
        cursor = start + len(surface)
    return relocated
