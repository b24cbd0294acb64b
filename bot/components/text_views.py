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
               they abbreviate (公积金, 身份证, 医保);
* ``focus``    the clause that asks (see :func:`question_clause`), so that in
               "出生证明拿到了，户口怎么上" the need (户口) outweighs the
               background (出生证明).

Latin runs that are whole pinyin ("gongjijin tiqu", "shebaoka") are split into
syllables in both pinyin views, so typing without an input method still meets
the characters it spells.

Pure functions over strings; no Rasa imports, so they are easy to test.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import AbstractSet, Iterable, List, Optional

from pypinyin import lazy_pinyin

__all__ = ["mark_negation", "mark_negated_words", "pinyin_view", "initials_view", "question_clause", "NEGATORS",
           "is_spaced_pinyin"]

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
_LATIN_OR_CHAR = re.compile(r"[A-Za-z]+|.", re.S)


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
    """Toneless syllable, or "" for a character pypinyin has no reading for."""
    syllable = lazy_pinyin(ch)[0]
    return syllable if syllable.isascii() and syllable.isalpha() else ""


@lru_cache(maxsize=1)
def _syllables() -> frozenset:
    from pypinyin.constants import PINYIN_DICT
    from pypinyin.contrib.tone_convert import to_normal

    plain = {to_normal(p) for value in PINYIN_DICT.values() for p in value.split(",")}
    # Interjection "syllables" without a vowel (n, m, ng, hm) would split almost anything.
    return frozenset(p for p in plain if p.isascii() and p.isalpha() and any(v in p for v in "aeiouv"))


@lru_cache(maxsize=4096)
def split_pinyin(word: str) -> Optional[List[str]]:
    """Fewest pinyin syllables spelling ``word`` exactly ("gongjijin" -> gong ji jin),
    or None when it is not pinyin (English words, abbreviations like gjj)."""
    word = word.lower()
    if len(word) < 4 or not word.isascii():
        return None
    syllables, n = _syllables(), len(word)
    best: List[Optional[List[str]]] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and word[start:end] in syllables:
                candidate = head + [word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    result = best[n]
    return result if result is not None and len(result) >= 2 else None


def is_spaced_pinyin(words: List[str]) -> bool:
    """Two or more Latin words that are all pinyin syllables ("zai ma", "ban hu zhao"): a
    message typed without an input method, one syllable per word. Single letters do not
    count, so stray letters ("a b c") are not pinyin."""
    syllables = _syllables()
    return len(words) >= 2 and all(len(w) >= 2 and w.lower() in syllables for w in words)


def _latin_words(word: str) -> List[str]:
    return split_pinyin(word) or [word]


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
                out.extend(_latin_words(word))
                word = ""
            if not _unknown(ch, known) and _syllable(ch):
                out.append((_NEG_MARK if negated else "") + _syllable(ch))
        elif ch.isalnum():
            word += ch.lower()
        else:
            if word:
                out.extend(_latin_words(word))
                word = ""
        negated = False
    if word:
        out.extend(_latin_words(word))
    return " ".join(out)


def initials_view(text: str, known: Optional[AbstractSet[str]] = None) -> str:
    """One letter per CJK character (its syllable's first letter), Latin kept.

    "公积金怎么取" -> "gjjzmq"; "gjj怎么取" -> "gjjzmq"; a Latin run that is
    whole pinyin becomes its initials ("gongjijin" -> "gjj"). Other characters
    become spaces so n-grams do not run across them, and so do negated
    characters (output of :func:`mark_negation`): an abbreviation is positive
    evidence only. Characters outside ``known`` become spaces too (see
    :func:`pinyin_view`).
    """
    out: List[str] = []
    negated = False
    for piece in _LATIN_OR_CHAR.findall(text):
        if piece == _NEG_MARK:
            negated = True
            continue
        if negated or (len(piece) == 1 and _unknown(piece, known)):
            out.append(" " * len(piece))
        elif len(piece) > 1 or (piece.isascii() and piece.isalpha()):
            syllables = split_pinyin(piece)
            out.append("".join(s[0] for s in syllables) if syllables else piece.lower())
        elif _CJK.match(piece):
            out.append(_syllable(piece)[:1] or " ")
        else:
            out.append(" ")
        negated = False
    return "".join(out)


_CLAUSE_SPLIT = re.compile(r"[,，。;；!！?？\s]+")
# Words that make a clause the question: the need usually sits there, while the
# other clauses are background ("出生证明拿到了，户口怎么上").
_QUESTION_WORDS = ("怎么", "怎样", "如何", "咋", "吗", "哪", "什么", "啥", "多久", "多少", "几", "能不能",
                   "可不可以", "是否", "要不要", "需不需要", "有没有", "在哪")


def question_clause(text: str) -> str:
    """The last clause that asks something, or the last clause when none does."""
    clauses = [c for c in _CLAUSE_SPLIT.split(text) if c]
    if len(clauses) <= 1:
        return text
    asking = [c for c in clauses if any(w in c for w in _QUESTION_WORDS)]
    return (asking or clauses)[-1]
