"""Messages that say a citizen's life may be in danger ("我想自杀", "不想活了").

A government service assistant is not a counselling service, but it must never answer such
a message with a greeting or a policy answer (the classifier has no intent for it and read
"我想自杀" as 你好). The desk recognises them before the bot sees them: the citizen gets the
emergency and crisis hotlines at once and is handed to a person (case reason "crisis").

Phrases, not single characters: 死 alone is in 死亡证明 and 死亡登记 (services we answer).
"""
from __future__ import annotations

import re

_CRISIS_RE = re.compile(
    "|".join((
        r"自杀", r"自尽", r"轻生", r"寻短见", r"想不开", r"了结自己", r"结束(?:自己的)?生命",
        r"不想活", r"活不下去", r"活着没(?:意思|意义)", r"不如死了", r"想死",
        r"跳楼", r"跳河", r"割腕", r"吃安眠药", r"喝农药",
    ))
)

CRISIS_HOTLINES = (
    "听到您这样说，我们很担心您。您的生命很重要，您并不孤单。\n"
    "如果您现在有危险，请立即拨打 110 或 120。\n"
    "心理援助热线 12356（24小时）可以随时倾听您。\n"
)
# Said with the handoff, while the bot was answering.
CRISIS_REPLY = CRISIS_HOTLINES + "我们正在为您转接人工客服，请稍候。"
# Said when the citizen is already waiting for a person, or talking with one.
CRISIS_REPLY_WAITING = CRISIS_HOTLINES + "已为您优先安排人工客服，请稍候。"
CRISIS_REPLY_SERVED = CRISIS_HOTLINES + "工作人员正在为您服务，您可以继续在这里和我们说。"


def is_crisis(text: str) -> bool:
    """Whether ``text`` (normalised citizen text) speaks of harming oneself."""
    return bool(_CRISIS_RE.search(text))
