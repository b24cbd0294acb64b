"""A calibrated linear SVM over n-grams of several views of a message.

Shared by the intent classifier and the out-of-scope kind selector. Plain
scikit-learn: it knows nothing about Rasa, so it is trained and tested on
lists of strings.

Why this model: with 30-90 examples per label and no pretrained embeddings
available offline, a linear model over sparse n-grams generalises better to
unseen citizen phrasings than DIET (docs/benchmarks.md). Probabilities come
from a softmax over the SVM's decision scores whose temperature is fitted on
cross-validation (lowest log-loss), so a threshold on them reads roughly as
"probability that the top label is right".
"""
from __future__ import annotations

import logging
import re
from typing import AbstractSet, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from components.message_gloss import gloss, glosses, number_kinds
from components.scheme_pairs import settle_scheme_pairs
from components.text_views import (
    initials_view,
    is_spaced_pinyin,
    has_settled_clause,
    mark_negated_words,
    mark_negation,
    mark_settled,
    mark_settled_words,
    pinyin_view,
    question_clause,
    split_pinyin,
)

logger = logging.getLogger(__name__)

TEMPERATURES = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0)
DEFAULT_TEMPERATURE = 10.0  # used when there is too little data to calibrate
# The reading without a finished step replaces the whole message's only at this confidence.
SETTLED_MIN_CONFIDENCE = 0.5

DEFAULTS: Dict[str, Any] = {
    "char_ngram_range": [1, 4],
    "word_ngram_range": [1, 2],
    "pinyin_ngram_range": [1, 2],
    "initials_ngram_range": [2, 4],
    "focus_ngram_range": [1, 3],
    "C": 1.0,
    "calibration_folds": 5,
    "random_seed": 42,
}


def views(text: str, tokens: Sequence[str], known: Optional[AbstractSet[str]] = None,
          settle: bool = False) -> Dict[str, str]:
    """The five views of one message (see components/text_views.py), read from
    its gloss (components/message_gloss.py: numbers named, English glossed).

    ``known``: characters of the training texts; pinyin views skip the others.
    ``settle``: also mark clauses that report a finished step (text_views.mark_settled).
    """
    marked = mark_negation(gloss(text))
    if settle:
        marked = mark_settled(marked)
    # Long digit runs are ID/phone/tracking numbers, named by number_kinds instead.
    words = [t for t in tokens if t.strip() and not (t.isdigit() and len(t) >= 7)]
    words += number_kinds(text) + glosses(text)
    return {
        "chars": marked,
        "words": " ".join(mark_settled_words(mark_negated_words(words)) if settle else mark_negated_words(words)),
        "pinyin": pinyin_view(marked, known),
        "initials": initials_view(marked, known),
        "focus": question_clause(marked),
    }


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")


def latin_tokens(text: str) -> List[str]:
    """Runs of Latin letters or of digits, lower-cased ("SFZ补办12345" -> sfz, 12345)."""
    return _LATIN_OR_DIGITS.findall(text.lower())


def _vectorizers(config: Dict[str, Any]) -> Dict[str, TfidfVectorizer]:
    space_tokens = r"[^ ]+"
    vectorizers = {
        "chars": TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(config["char_ngram_range"]), sublinear_tf=True),
        "words": TfidfVectorizer(
            token_pattern=space_tokens, ngram_range=tuple(config["word_ngram_range"]), sublinear_tf=True
        ),
        "pinyin": TfidfVectorizer(
            token_pattern=space_tokens, ngram_range=tuple(config["pinyin_ngram_range"]), sublinear_tf=True
        ),
        "initials": TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(config["initials_ngram_range"]), sublinear_tf=True
        ),
    }
    if config["focus_ngram_range"]:  # null in the config turns the view off
        vectorizers["focus"] = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(config["focus_ngram_range"]), sublinear_tf=True
        )
    return vectorizers


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = (scores - scores.max(axis=1, keepdims=True)) * temperature
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class NgramSvm:
    def __init__(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.config = {**DEFAULTS, **(config or {})}
        self.vectorizers: Dict[str, TfidfVectorizer] = {}
        self.svm: Optional[LinearSVC] = None
        self.temperature = DEFAULT_TEMPERATURE
        self.known_chars: frozenset = frozenset()
        self.known_latin: frozenset = frozenset()

    @property
    def classes(self) -> List[str]:
        if self.svm is None:
            raise RuntimeError("NgramSvm used before fit")
        return [str(c) for c in self.svm.classes_]

    def _matrix(self, rows: Sequence[Dict[str, str]]):
        return scipy.sparse.hstack(
            [vec.transform([r[name] for r in rows]) for name, vec in self.vectorizers.items()]
        ).tocsr()

    def _new_svm(self) -> LinearSVC:
        return LinearSVC(C=self.config["C"], random_state=self.config["random_seed"])

    @staticmethod
    def _scores(svm: LinearSVC, features) -> np.ndarray:
        """Decision scores as (n_samples, n_classes), also for two classes."""
        raw = svm.decision_function(features)
        return np.column_stack([-raw, raw]) if raw.ndim == 1 else raw

    def _rows(self, messages: Sequence[Tuple[str, Sequence[str]]]) -> List[Dict[str, str]]:
        return [views(text, tokens, self.known_chars) for text, tokens in messages]

    def fit(self, messages: Sequence[Tuple[str, Sequence[str]]], labels: Sequence[str]) -> "NgramSvm":
        """``messages``: (normalised text, jieba tokens) pairs."""
        y = np.asarray(labels)
        if len(set(labels)) < 2:
            raise ValueError("NgramSvm needs at least two labels")
        self.known_chars = frozenset(ch for text, _ in messages for ch in text)
        self.known_latin = frozenset(tok for text, _ in messages for tok in latin_tokens(text))
        rows = self._rows(messages)
        self.vectorizers = _vectorizers(self.config)
        for name, vec in self.vectorizers.items():
            vec.fit([r[name] for r in rows])
        features = self._matrix(rows)
        self.temperature = self._calibrate(features, y)
        self.svm = self._new_svm().fit(features, y)
        return self

    def _calibrate(self, features, y: np.ndarray) -> float:
        """Softmax temperature with the lowest cross-validated log-loss."""
        folds = int(self.config["calibration_folds"])
        classes, counts = np.unique(y, return_counts=True)
        if folds < 2 or int(counts.min()) < folds:
            return DEFAULT_TEMPERATURE
        scores = np.zeros((len(y), len(classes)))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.config["random_seed"])
        for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
            svm = self._new_svm().fit(features[train_idx], y[train_idx])
            scores[test_idx] = self._scores(svm, features[test_idx])
        gold = np.searchsorted(classes, y)

        def log_loss(t: float) -> float:
            return float(-np.mean(np.log(softmax(scores, t)[np.arange(len(gold)), gold] + 1e-12)))

        best = min(TEMPERATURES, key=log_loss)
        logger.info("NgramSvm: softmax temperature %.1f (cross-validated log-loss %.3f)", best, log_loss(best))
        return best

    def recognises(self, text: str) -> bool:
        """Whether the message holds anything the training texts taught.

        A Chinese character seen in training is enough. A message without one
        must contain a Latin or digit token of two or more characters seen in
        training ("gjj", "sfz", "12345"), full pinyin ("gongjijin") or pinyin
        typed one syllable per word ("zai ma"):
        otherwise its letters only share fragments with abbreviations ("zzzz"
        with jzz 居住证, "xxxx" with xx 谢谢) and the SVM would answer a
        keyboard mash with confidence. Single letters and digits do not count:
        every code fragment has some ("' OR 1=1; --" would read as 再见).
        """
        text = gloss(text)  # an English service term ("passport") counts as its Chinese one
        if any(_CJK.match(ch) and ch in self.known_chars for ch in text):
            return True
        known_latin = getattr(self, "known_latin", None)
        if known_latin is None:  # a model saved before this check existed
            return any(ch.isalnum() and ch in self.known_chars for ch in text)
        tokens = latin_tokens(text)
        if is_spaced_pinyin([t for t in tokens if not t.isdigit()]):
            return True
        return any(len(tok) > 1 and (tok in known_latin or split_pinyin(tok)) for tok in tokens)

    def _settle_finished_steps(self, messages: Sequence[Tuple[str, Sequence[str]]], probs: np.ndarray) -> np.ndarray:
        """For a message that reports one step done and turns to another ("公积金我已经转好了，
        现在是养老保险还在上海"), the reading without the done step, when it is confident on
        its own: the done step names a service the citizen is not asking about. A turn that
        leaves nothing to go on ("护照办好了，但是还没寄到") keeps the whole message."""
        settled = [i for i, (text, _) in enumerate(messages) if has_settled_clause(gloss(text))]
        if not settled:
            return probs
        assert self.svm is not None
        rows = [views(messages[i][0], messages[i][1], self.known_chars, settle=True) for i in settled]
        alt = softmax(self._scores(self.svm, self._matrix(rows)), self.temperature)
        probs = probs.copy()
        for row, i in zip(alt, settled):
            if row.max() >= SETTLED_MIN_CONFIDENCE:
                probs[i] = row
        return probs

    def predict_proba(self, messages: Sequence[Tuple[str, Sequence[str]]]) -> np.ndarray:
        """Probabilities per class; all zeros for a message the model does not
        recognise (see ``recognises``): the SVM's intercepts and n-grams of
        padding, punctuation or stray letters alone would otherwise pick a
        class with confidence. Topics that differ only in the scheme named
        are settled by the name (components/scheme_pairs.py)."""
        if self.svm is None:
            raise RuntimeError("NgramSvm used before fit")
        probs = softmax(self._scores(self.svm, self._matrix(self._rows(messages))), self.temperature)
        probs = self._settle_finished_steps(messages, probs)
        classes = self.classes
        for i, (text, _) in enumerate(messages):
            probs[i] = settle_scheme_pairs(text, probs[i], classes) if self.recognises(text) else 0.0
        return probs
