"""Views of one citizen message for the n-gram intent classifier.

Each view is a plain string that a scikit-learn vectoriser turns into n-grams.
They exist because citizens type the same matter in many surface forms:

* ``chars``    the normalised text, with negated stretches marked, so that
               "我要办护照，不是港澳通行证" does not count as evidence for 港澳通行证;
* ``words``    jieba tokens (government-term dictionary loaded), negation marked;
* ``pinyin``   toneless syllables, so homophone typos (公基金 / 公积金,
               身分证 / 身份证) share features;
* ``initials`` first letters of the syllables, with Latin letters kept, so the
               abbreviations citizens type (gjj, sfz, yb) meet the characters
               they abbreviate (公积金, 身份证, 医保).

Pure functions over strings; no Rasa imports, so they are easy to test.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import AbstractSet, Iterable, List, Optional

from pypinyin import lazy_pinyin

__all__ = ["mark_negation", "mark_negated_words", "pinyin_view", "initials_view", "NEGATORS"]

# Words that open a negated stretch: "不是X，是Y", "不要X", "并非X".
NEGATORS = ("而不是", "不是", "不要", "不想", "并非", "不用", "不办")
_NEG_MARK = "¬"
# A negated stretch ends at clause punctuation or where the positive part
# begins ("不是身份证，是居住证"; "不是A而是B").
_STOP_CHARS = ",，。;；!！?？、\n"
_NEGATED = re.compile(
    "(" + "|".join(NEGATORS) + ")"
    + f"([^{_STOP_CHARS}]*?)"
    + f"(?=[{_STOP_CHARS}]|而是|是|$)"
)
_WORD_STOPS = set(_STOP_CHARS) | {"是", "而是", "但是", "只是"}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def mark_negation(text: str) -> str:
    """Prefix every character of a negated stretch with ``¬``."""
    return _NEGATED.sub(lambda m: m.group(1) + "".join(_NEG_MARK + c for c in m.group(2)), text)


def mark_negated_words(tokens: Iterable[str]) -> List[str]:
    """Token-level twin of :func:`mark_negation` (``NOT_`` prefix)."""
    out: List[str] = []
    negated = False
    for tok in tokens:
        if tok in NEGATORS:
            negated = True
            out.append(tok)
            continue
        if tok in _WORD_STOPS:
            negated = False
        out.append("NOT_" + tok if negated else tok)
    return out


@lru_cache(maxsize=8192)
def _syllable(ch: str) -> str:
    return lazy_pinyin(ch)[0]


def _unknown(ch: str, known: Optional[AbstractSet[str]]) -> bool:
    return known is not None and ch not in known


def pinyin_view(text: str, known: Optional[AbstractSet[str]] = None) -> str:
    """Space-separated toneless syllables; non-CJK runs are kept as words.

    Takes the output of :func:`mark_negation`: a negated character's syllable
    keeps the ``¬`` mark, so 注销 and ¬注¬销 stay different evidence.
    Characters outside ``known`` (the training texts' characters) are left
    out: a homophone typo is a common character in the wrong place, while the
    syllable of a character never seen (龘, 爨) would only be a spurious match.
    """
    out: List[str] = []
    word = ""
    negated = False
    for ch in text:
        if ch == _NEG_MARK:
            negated = True
            continue
        if _CJK.match(ch):
            if word:
                out.append(word)
                word = ""
            if not _unknown(ch, known):
                out.append((_NEG_MARK if negated else "") + _syllable(ch))
        elif ch.isalnum():
            word += ch.lower()
        else:
            if word:
                out.append(word)
                word = ""
        negated = False
    if word:
        out.append(word)
    return " ".join(out)


def initials_view(text: str, known: Optional[AbstractSet[str]] = None) -> str:
    """One letter per CJK character (its syllable's first letter), Latin kept.

    "公积金怎么取" -> "gjjzmq"; "gjj怎么取" -> "gjjzmq". Other characters
    become spaces so n-grams do not run across them, and so do negated
    characters (output of :func:`mark_negation`): an abbreviation is positive
    evidence only. Characters outside ``known`` become spaces too (see
    :func:`pinyin_view`).
    """
    out: List[str] = []
    negated = False
    for ch in text:
        if ch == _NEG_MARK:
            negated = True
            continue
        if negated or _unknown(ch, known):
            out.append(" ")
            negated = False
        elif _CJK.match(ch):
            out.append(_syllable(ch)[:1])
        elif ch.isascii() and ch.isalpha():
            out.append(ch.lower())
        else:
            out.append(" ")
    return "".join(out)
