"""Intent classifier: TF-IDF (character n-grams + jieba words) logistic regression,
blended with DIET's ranking.

Why: with ~30-70 examples per topic and no pretrained embeddings, a linear
model over character n-grams generalises better to unseen citizen phrasings
than DIET alone (see docs/benchmarks.md). DIET stays in the pipeline and
contributes ``diet_weight`` of the final score, so both views of the text are
used. Placed after DIETClassifier and before FallbackClassifier; it rewrites
``intent`` and ``intent_ranking``.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
MODEL_FILE = "tfidf_intent.joblib"


def _words(message: Message) -> Text:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(t.text for t in tokens if t.text.strip())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "char_ngram_range": [1, 4],
            "word_ngram_range": [1, 2],
            "C": 20.0,
            "max_iter": 3000,
            # share of DIET's confidence in the final score (0 = TF-IDF only)
            "diet_weight": 0.3,
            "ranking_length": 10,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[Text, Any]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TfidfIntentClassifier":
        return cls(config, model_storage, resource)

    def _features(self, model: Dict[Text, Any], messages: List[Message]):
        chars = model["chars"].transform([m.get(TEXT) or "" for m in messages])
        words = model["words"].transform([_words(m) for m in messages])
        return scipy.sparse.hstack([chars, words]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            raise ValueError("TfidfIntentClassifier needs at least two intents")
        model: Dict[Text, Any] = {
            "chars": TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self._config["char_ngram_range"]), sublinear_tf=True
            ),
            "words": TfidfVectorizer(
                token_pattern=r"[^ ]+", ngram_range=tuple(self._config["word_ngram_range"]), sublinear_tf=True
            ),
        }
        model["chars"].fit([m.get(TEXT) for m in examples])
        model["words"].fit([_words(m) for m in examples])
        clf = LogisticRegression(
            C=self._config["C"], max_iter=self._config["max_iter"], random_state=self._config["random_seed"]
        )
        clf.fit(self._features(model, examples), labels)
        model["clf"] = clf
        self._model = model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TfidfIntentClassifier":
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            raise RuntimeError("TfidfIntentClassifier used before training")
        clf = self._model["clf"]
        classes = list(clf.classes_)
        probs = clf.predict_proba(self._features(self._model, messages))
        weight = float(self._config["diet_weight"])
        for message, row in zip(messages, probs):
            scores = dict(zip(classes, (1.0 - weight) * row))
            if weight:
                for item in message.get(INTENT_RANKING_KEY) or []:
                    if item.get("name") in scores:
                        scores[item["name"]] += weight * float(item.get("confidence") or 0.0)
            ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[: self._config["ranking_length"]]
            ranking = [{"name": name, "confidence": float(conf)} for name, conf in ranked]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
