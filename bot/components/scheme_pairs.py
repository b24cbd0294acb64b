"""Deciding between two topics that differ only in the scheme they concern.

社保转移 and 公积金转移 are asked in the same words ("换城市了怎么转过去",
"转到新单位所在城市要多久"); what tells them apart is one word naming the
scheme. In a linear n-gram model the many n-grams of the shared phrasing can
outweigh that one word: "社保可以转到新单位所在城市吗" scored 0.99 for the
housing fund because citizens ask about 公积金 following them to a new
employer's city far more often. So when the model's top topic is one of such
a pair and the message names the other scheme, and not its own, the two
topics trade places. A message naming both or neither is left to the model.

The scheme vocabulary is the official one: the pension transfer works with a
联系函 (基本养老保险关系转移接续联系函), 统筹 and 参保缴费凭证; the housing fund is
缴存 (not 缴费) and 封存. Mentions inside a negated stretch ("不是公积金") do
not count, and the text is read after the gloss, so "gjj" counts as 公积金.

Pure functions over strings and arrays; no Rasa imports.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, List, Sequence, Tuple

import numpy as np

from components.message_gloss import gloss
from components.text_views import mark_negation, mark_settled

# Scheme -> the words that name it. "sb" only as a whole Latin token, and only
# here: on its own it is as often an insult as 社保 (message_gloss.ABBREVIATIONS).
SCHEME_NAMES: Dict[str, Tuple[str, ...]] = {
    "social_insurance": ("社保", "社会保险", "养老", "联系函", "统筹", "参保缴费凭证", "sb"),
    "housing_fund": ("公积金", "缴存", "封存"),
}
# Topic pairs asked in the same words of two schemes: topic -> its scheme.
SCHEME_PAIRS: Tuple[Dict[str, str], ...] = (
    {"shebao_zhuanyi": "social_insurance", "gjj_zhuanyi": "housing_fund"},
)

# A negated character carries ¬ before it, so a negated name never matches.
_NAME_RES = {
    scheme: re.compile(
        "|".join(
            rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
            for w in sorted(words, key=len, reverse=True)
        )
    )
    for scheme, words in SCHEME_NAMES.items()
}
# "社保卡" names the card (a document to bring), not the scheme.
_CARD = re.compile(r"社保卡")


def named_schemes(text: str) -> FrozenSet[str]:
    """The schemes a message names outside negated stretches ("gjj转移，不是社保" -> housing_fund)."""
    marked = _CARD.sub(" ", mark_settled(mark_negation(gloss(text).lower())))
    return frozenset(scheme for scheme, pattern in _NAME_RES.items() if pattern.search(marked))


def settle_scheme_pairs(text: str, probs: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """``probs`` (one message's probabilities over ``classes``) with the top topic
    and its pair partner swapped when the message names only the partner's scheme."""
    if not probs.any():
        return probs
    top = classes[int(probs.argmax())]
    index = {c: i for i, c in enumerate(classes)}
    for pair in SCHEME_PAIRS:
        if top not in pair or not all(t in index for t in pair):
            continue
        named = named_schemes(text)
        partners: List[str] = [t for t in pair if t != top and pair[t] in named]
        if len(partners) == 1 and pair[top] not in named:
            settled = probs.copy()
            i, j = index[top], index[partners[0]]
            settled[i], settled[j] = probs[j], probs[i]
            return settled
    return probs
