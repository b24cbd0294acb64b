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

__all__ = ["mark_negation", "mark_negated_words", "mark_settled", "mark_settled_words", "has_settled_clause", "pinyin_view",
           "initials_view", "question_clause", "NEGATORS", "is_spaced_pinyin"]

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


# "跟退休金没关系的那种", "和社保无关": the negated thing comes before the marker.
_DISOWNED = re.compile(r"(跟|和|与)([^,，。;；!！?？、\n]{1,8}?)(没关系|没有关系|无关|不相干)")


def mark_negation(text: str) -> str:
    """Prefix every character of a negated stretch with ``¬``."""
    text = _NEGATED.sub(lambda m: m.group(1) + "".join(_NEG_MARK + c for c in m.group(2)), text)
    return _DISOWNED.sub(lambda m: m.group(1) + "".join(_NEG_MARK + c for c in m.group(2)) + m.group(3), text)


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


# A clause that reports a step as already done ("公积金我已经转好了", "出生证明拿到了",
# "车年检我刚做完") names a service the citizen is NOT asking about when the next clause
# turns to the actual need ("现在是养老保险还在上海那边，要怎么转"). Its words are then
# marked like a negated stretch, so they stop counting as evidence for the service they
# name. Without the turn ("社保转移办完了，外地交的那几年怎么还没并进来") the done step is
# usually what the question is about, and nothing is marked. "X我会查" is its own turn.
# Paying and receiving (交了/领了) are left out: "已经交了15年社保" is background to the
# same service, not a finished errand.
_DONE_VERBS = "办|转|做|弄|搞|补|换|查|备案|登记|注册|申请|开"
_SETTLED = re.compile(
    rf"(?:{_DONE_VERBS})(?:好|完)了?"
    rf"|已经?(?:{_DONE_VERBS})(?:了|过)"
    r"|拿到(?:了|手)|搞定了"
)
_SELF_TURNING = re.compile(r"(?:我|自己)(?:会查|知道怎么办|知道怎么查)")
_TURN = re.compile(r"^(?:我|那)?(?:现在|但是|但|可是|不过|还有|另外|只是)")
_CLAUSE_STOPS = re.compile(r"[,，。;；!！?？\n]")
_SPLIT_KEEPING_STOPS = re.compile(r"([,，。;；!！?？\n])")
_MIN_REST_CJK = 4


def _settled_flags(clauses: List[str]) -> List[bool]:
    """Per clause: does it report a finished step, with a later clause still asking something?"""
    plain = [c.replace(_NEG_MARK, "").replace("NOT_", "").strip() for c in clauses]
    flags = []
    for i, clause in enumerate(plain):
        following = next((c for c in plain[i + 1:] if c), "")
        turns = bool(_SELF_TURNING.search(clause)) or (bool(_SETTLED.search(clause)) and bool(_TURN.search(following)))
        flags.append(turns and len(_CJK.findall("".join(plain[i + 1:]))) >= _MIN_REST_CJK)
    return flags


def has_settled_clause(text: str) -> bool:
    """Whether :func:`mark_settled` would mark anything in ``text``."""
    return any(_settled_flags(_CLAUSE_STOPS.split(text)))


def mark_settled(text: str) -> str:
    """Prefix every character of a settled clause (see ``_SETTLED``) with ``¬``."""
    parts = _SPLIT_KEEPING_STOPS.split(text)
    clauses, stops = parts[0::2], parts[1::2]
    flags = _settled_flags(clauses)
    out = []
    for i, clause in enumerate(clauses):
        out.append("".join(c if c == _NEG_MARK or (j and clause[j - 1] == _NEG_MARK) else _NEG_MARK + c
                           for j, c in enumerate(clause)) if flags[i] else clause)
        if i < len(stops):
            out.append(stops[i])
    return "".join(out)


def mark_settled_words(tokens: Iterable[str]) -> List[str]:
    """Token-level twin of :func:`mark_settled` (``NOT_`` prefix, not doubled)."""
    clauses: List[List[str]] = [[]]
    for tok in tokens:
        clauses[-1].append(tok)
        if _CLAUSE_STOPS.fullmatch(tok):
            clauses.append([])
    flags = _settled_flags(["".join(c) for c in clauses])
    return [("NOT_" + t if flag and not t.startswith("NOT_") and not _CLAUSE_STOPS.fullmatch(t) else t)
            for clause, flag in zip(clauses, flags) for t in clause]


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
