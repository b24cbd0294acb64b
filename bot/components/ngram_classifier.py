"""Rasa components around the n-gram SVM (components/ngram_svm.py).

* ``NgramIntentClassifier`` sets ``intent`` and ``intent_ranking`` (every
  topic id of shared/policy_topics.yml is an intent).
* ``OutOfScopeKindSelector`` picks the sub-kind of an out_of_scope question
  (weather, stocks, jokes ...) and writes it where Rasa's ResponseSelector
  would (``response_selector.out_of_scope.response.intent_response_key``), so
  the polite refusal can say what it understood the question to be about.

Both train in seconds, which is why DIET and the ResponseSelector are no
longer in the pipeline: on the held-out split blending DIET in did not change
accuracy, and it was most of the training time and parse latency.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import joblib

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME, TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.ngram_svm import DEFAULTS, NgramSvm

MODEL_FILE = "ngram_svm.joblib"


def _text_and_tokens(message: Message) -> Tuple[Text, List[Text]]:
    return message.get(TEXT) or "", [t.text for t in (message.get(TOKENS_NAMES[TEXT]) or [])]


class _NgramComponent(GraphComponent):
    """Create/persist/load shared by the two components; subclasses say what to learn."""

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[NgramSvm] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DEFAULTS, "ranking_length": 10}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_NgramComponent":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "_NgramComponent":
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def _fit_and_persist(self, messages: List[Message], labels: List[Text]) -> Resource:
        self._model = NgramSvm(self._config).fit([_text_and_tokens(m) for m in messages], labels)
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)
        return self._resource

    def _rankings(self, messages: List[Message]) -> List[List[Dict[Text, Any]]]:
        if self._model is None:
            raise RuntimeError(f"{type(self).__name__} used before training")
        classes = self._model.classes
        rankings = []
        for row in self._model.predict_proba([_text_and_tokens(m) for m in messages]):
            # Zero means "never saw anything like it" (see NgramSvm.predict_proba).
            ranked = sorted(((c, p) for c, p in zip(classes, row) if p > 0), key=lambda kv: kv[1], reverse=True)
            rankings.append(
                [{"name": name, "confidence": float(p)} for name, p in ranked[: self._config["ranking_length"]]]
            )
        return rankings

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NgramIntentClassifier(_NgramComponent, IntentClassifier):
    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        return self._fit_and_persist(examples, [m.get(INTENT) for m in examples])

    def process(self, messages: List[Message]) -> List[Message]:
        for message, ranking in zip(messages, self._rankings(messages)):
            # No ranking at all: Rasa's "no intent" (the FallbackClassifier takes over).
            top = dict(ranking[0]) if ranking else {"name": None, "confidence": 0.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfScopeKindSelector(_NgramComponent):
    """Sub-kind of a retrieval intent (``retrieval_intent``, default out_of_scope)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**_NgramComponent.get_default_config(), "retrieval_intent": "out_of_scope", "ranking_length": 5}

    def train(self, training_data: TrainingData) -> Resource:
        intent = self._config["retrieval_intent"]
        examples = [
            m for m in training_data.intent_examples
            if m.get(TEXT) and m.get(INTENT) == intent and m.get(INTENT_RESPONSE_KEY)
        ]
        if len({m.get(INTENT_RESPONSE_KEY) for m in examples}) < 2:
            raise ValueError(f"OutOfScopeKindSelector needs examples of at least two {intent}/<kind> sub-intents")
        return self._fit_and_persist(examples, [m.get(INTENT_RESPONSE_KEY) for m in examples])

    def process(self, messages: List[Message]) -> List[Message]:
        intent = self._config["retrieval_intent"]
        # Only out_of_scope questions need a sub-kind: no second model run on every parse.
        asked = [m for m in messages if (m.get(INTENT) or {}).get("name") == intent]
        for message, ranking in zip(asked, self._rankings(asked) if asked else []):
            if not ranking:
                continue  # nothing known in it: the refusal stays generic
            best = ranking[0]
            key = best["name"]
            selected = dict(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {})
            selected["all_retrieval_intents"] = [intent]
            # Same shape as Rasa's ResponseSelector output (actions and the eval read it).
            selected[intent] = {
                "response": {
                    "intent_response_key": key,
                    "utter_action": f"utter_{key}",
                    "confidence": best["confidence"],
                    "responses": None,
                },
                "ranking": [
                    {"intent_response_key": r["name"], "confidence": r["confidence"]} for r in ranking
                ],
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selected, add_to_output=True)
        return messages
