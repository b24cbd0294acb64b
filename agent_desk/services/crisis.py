"""Messages that say a citizen's life may be in danger ("我想自杀", "不想活了").

A government service assistant is not a counselling service, but it must never answer such
a message with a greeting or a policy answer (the classifier has no intent for it and read
"我想自杀" as 你好). The desk recognises them before the bot sees them: the citizen gets the
emergency and crisis hotlines at once and is handed to a person (case reason "crisis").

Phrases, not single characters: 死 alone is in 死亡证明 and 死亡登记 (services we answer).
"""
from __future__ import annotations

import re

# Each phrase with the look-arounds that keep it out of everyday words: 想死 is not 想死后(捐献遗体)
# or 想死亡证明, nor the hyperbole 热得想死 / 想死你们了; 跳楼 is not 跳楼价; 想不开 is not
# 想不开发票; 跳河 is not 跳河里救人 (见义勇为).
_CRISIS_RE = re.compile(
    "|".join((
        r"自杀", r"自尽", r"轻生", r"寻短见", r"寻死", r"自残", r"自我了断", r"了结自己", r"了断自己",
        r"结束(?:自己的)?生命", r"结束这一切", r"想不开(?![发开具票])", r"不想(?:再)?活", r"不活了",
        r"活不下去", r"活不成了", r"活够了", r"活着(?:没|有什么|有啥|还有什么)(?:意思|意义|用)",
        r"不如死了", r"死了算了", r"一死了之", r"一了百了", r"生不如死",
        r"(?<!得)想死(?![后亡你了吧])", r"想死了(?!吧)", r"(?:我要|我想|我该|准备|打算)去死",
        r"离开这个世界", r"跳楼(?!价)", r"跳河(?!里?救)", r"跳江", r"跳桥", r"卧轨", r"上吊", r"烧炭",
        r"割腕", r"服毒", r"吞药", r"(?:吃|吞)了?[^，。,.!?！？]{0,6}安眠药", r"喝了?[^，。,.!?！？]{0,3}农药",
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


def crisis_reply_waiting(position: int | None) -> str:
    """The reply to a waiting citizen, with the place the case was moved to (if known)."""
    if position is None:
        return CRISIS_REPLY_WAITING
    ahead = max(position - 1, 0)
    place = "您是下一位" if ahead == 0 else f"您前面还有 {ahead} 位"
    return CRISIS_HOTLINES + f"已为您优先安排人工客服，{place}，请稍候。"


def is_crisis(text: str) -> bool:
    """Whether ``text`` (normalised citizen text) speaks of harming oneself."""
    return bool(_CRISIS_RE.search(text))
