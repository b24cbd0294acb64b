"""Messages in a language the assistant does not read (Japanese, Korean, Russian, Arabic ...).

The bot is trained on Chinese (with English service terms glossed). A message in another
script would be classified by the few Han characters it may share ("パスポートの申請" was read
as 低保) or not at all, and the citizen would loop through did-not-understand replies. The desk
answers it instead, in Chinese and the common foreign languages, with the 转人工 button; the
reply counts as a miss, so a second such message hands the citizen to a person.
"""
from __future__ import annotations

import unicodedata

KANA_HANGUL = (("\u3040", "\u30ff"), ("\u31f0", "\u31ff"), ("\uac00", "\ud7af"), ("\u1100", "\u11ff"),
               ("\u3130", "\u318f"))

FOREIGN_LANGUAGE_REPLY = (
    "目前智能客服只能用中文咨询。如需帮助，请点击“转人工”，由工作人员为您服务。\n"
    "Sorry, the assistant reads Chinese (and simple English service questions). Tap 转人工 to talk to a person.\n"
    "申し訳ありませんが、中国語のみ対応しています。「转人工」を押すと担当者につながります。\n"
    "죄송합니다. 중국어만 지원합니다. '转人工'을 누르면 상담원과 연결됩니다."
)


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def is_foreign_language(text: str) -> bool:
    """Kana or Hangul anywhere, or letters of a script other than Han and Latin with no Han."""
    if any(lo <= ch <= hi for ch in text for lo, hi in KANA_HANGUL):
        return True
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or any(_is_han(ch) for ch in letters):
        return False
    other = [ch for ch in letters if not ch.isascii() and "LATIN" not in unicodedata.name(ch, "")]
    return len(other) * 2 > len(letters)
