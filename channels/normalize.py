"""Text normalisation shared by the desk and the bot.

Citizens type on phones and PCs with every input method there is: full-width
letters and digits, traditional characters, stray control characters pasted from
documents, emoji glued to words.  Both the desk (before storing/forwarding) and
the bot's NLU pipeline (before tokenising) run the same function so that what
the model was trained on and what it sees at run time match.

Pure Python: stdlib plus the ``opencc`` module from ``opencc-python-reimplemented``.
It must import under Python 3.10 (bot) and 3.11 (desk) and has no import-time
side effects (the OpenCC tables are loaded on first use).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalized", "normalize_text", "mask_pii", "DEFAULT_MAX_LEN"]

DEFAULT_MAX_LEN = 500

# Zero-width joiner is kept only inside emoji sequences (👨‍👩‍👧); everywhere
# else format characters are dropped like control characters.
_ZWJ = "\u200d"
_EMOJI_MODIFIERS = {"\ufe0e", "\ufe0f", "\u20e3"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


@dataclass(frozen=True)
class Normalized:
    text: str
    is_empty: bool
    too_long: bool
    original_length: int


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # opencc-python-reimplemented

    return opencc.OpenCC("t2s")


def _is_removable(ch: str) -> bool:
    if ch in "\t\n\r\x0b\x0c":
        return False  # whitespace: collapsed later, not deleted
    cat = unicodedata.category(ch)
    # Cc control, Cf format (zero-width space, BOM, bidi marks), Cs lone
    # surrogates (cannot be encoded), Co private use (input-method garbage).
    return cat in ("Cc", "Cs", "Co") or (cat == "Cf" and ch != _ZWJ)


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    if 0x1F1E6 <= cp <= 0x1F1FF:  # regional indicators (flags)
        return True
    if ch in _EMOJI_MODIFIERS:
        return False
    cat = unicodedata.category(ch)
    if cat not in ("So", "Sk"):
        return False
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF or 0x2300 <= cp <= 0x23FF


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2FA1F
        or 0x3000 <= cp <= 0x303F  # CJK punctuation 。、「」
        or 0xF900 <= cp <= 0xFAFF
    )


def _separate_emoji(text: str) -> str:
    """Put spaces around emoji clusters so tokenisers see them as words."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if _is_emoji(ch):
            j = i + 1
            while j < n:
                nxt = text[j]
                if nxt in _EMOJI_MODIFIERS:
                    j += 1
                elif nxt == _ZWJ and j + 1 < n and _is_emoji(text[j + 1]):
                    j += 2
                elif 0x1F1E6 <= ord(ch) <= 0x1F1FF and 0x1F1E6 <= ord(nxt) <= 0x1F1FF and j == i + 1:
                    j += 1  # a flag is a pair of regional indicators
                else:
                    break
            out.append(" " + text[i:j] + " ")
            i = j
        elif ch == _ZWJ:
            i += 1  # a joiner outside an emoji sequence carries nothing
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_WS_RE = re.compile(r"\s+")


def _collapse_whitespace(text: str) -> str:
    text = _WS_RE.sub(" ", text).strip()
    if " " not in text:
        return text
    # Spaces between two Chinese characters are input noise ("社保 卡") and
    # would split words for jieba; spaces next to Latin text or emoji stay.
    parts = text.split(" ")
    out = [parts[0]]
    for part in parts[1:]:
        prev = out[-1]
        if prev and part and _is_cjk(prev[-1]) and _is_cjk(part[0]):
            out[-1] = prev + part
        else:
            out.append(part)
    return " ".join(out)


def _normalize_once(text: str) -> str:
    # Controls go first: removing them after NFKC could bring a base letter
    # and a combining mark together and make a second pass change the text.
    text = "".join(ch for ch in text if not _is_removable(ch))
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_removable(ch))
    text = _separate_emoji(text)
    return _collapse_whitespace(text)


def normalize_text(raw: str | None, max_len: int = DEFAULT_MAX_LEN) -> Normalized:
    """Normalise one citizen message.

    NFKC (full-width → half-width), traditional → simplified, control and
    format characters removed, emoji separated by spaces, whitespace collapsed.
    Text longer than ``max_len`` is cut and flagged ``too_long``.
    """
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise TypeError(f"normalize_text expects str, got {type(raw).__name__}")
    text = raw
    # Each step is idempotent on its own; iterating to a fixed point makes the
    # composition idempotent too (rare OpenCC phrase rules can chain).
    for _ in range(4):
        nxt = _normalize_once(text)
        if nxt == text:
            break
        text = nxt
    too_long = len(text) > max_len
    if too_long:
        text = _collapse_whitespace(text[:max_len])
    return Normalized(text=text, is_empty=not text, too_long=too_long, original_length=len(raw))


# 18-digit resident ID: 6-digit area, birth date, 3-digit sequence, check digit.
ID_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
    r"([1-9１-９][0-9０-９]{2})"
    # area (rest) + birth date, optionally separated by a space or dash as people type them
    r"([0-9０-９]{3}[ \-]?(?:1[89]|20|１[８９]|２０)[0-9０-９]{6}[ \-]?)"
    r"([0-9０-９]{3}[0-9０-９XxＸｘ])"
    r"(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)
# Mainland mobile number, with an optional +86 prefix and the spaces/dashes people put in it.
PHONE_RE = re.compile(
    r"(?<![0-9０-９])(?:[+＋]?(?:86|８６)[ \-]?)?"
    r"([1１][3-9３-９][0-9０-９])[ \-]?([0-9０-９]{4})[ \-]?([0-9０-９]{4})(?![0-9０-９])"
)

# Bank card number: 16–19 digits, unbroken or in groups of four (spaces or dashes). Unbroken,
# it must start as card schemes do (3–6, 9, or 22–27 for Mastercard's 2-series and Mir), so a
# 20xx date-time stamp is not taken for one; grouped in fours it is a card whatever it starts
# with. Not after a decimal point or a letter (SL… tracking numbers, amounts like 0.1234…).
_CARD_SEP = r"[ \-\u3000]"
BANK_CARD_RE = re.compile(
    r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ.．])"
    r"(?:[3-69３-６９][0-9０-９]{15,18}|[2２][2-7２-７][0-9０-９]{14,17}"
    r"|[1-9１-９][0-9０-９]{3}(?:" + _CARD_SEP + r"[0-9０-９]{4}){3}(?:" + _CARD_SEP + r"?[0-9０-９]{1,3})?)"
    r"(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(?![.．][0-9０-９])"
)
_DIGITS = frozenset("0123456789０１２３４５６７８９")


def _mask_card(m: re.Match[str]) -> str:
    digits = [c for c in m.group(0) if c in _DIGITS]
    return "".join(digits[:4]) + "*" * (len(digits) - 8) + "".join(digits[-4:])


# Case tracking number as citizens type it: SL20261203-0001, sl 20261203 0001 (after NFKC).
TRACKING_NO_RE = re.compile(r"(?<![A-Za-z0-9])[Ss][Ll][-\s]?\d{8}[-\s]?\d{4}(?!\d)")


def mask_pii(text: str) -> str:
    """Mask resident ID numbers (110***********1234), bank card numbers (first and last four
    digits kept, as banks print them: 6222***********0123) and mobile numbers (138****5678)."""
    if not text:
        return text
    text = ID_NUMBER_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    text = BANK_CARD_RE.sub(_mask_card, text)
    return PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
