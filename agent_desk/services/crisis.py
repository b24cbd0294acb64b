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
# 想不开发票; 跳河 is not 跳河里救人 (见义勇为); 上吊 is not 网上吊销; 不想活 is not 不想活动;
# "离开这个世界" only about oneself (我/想/要…), not "我妈上个月离开这个世界了" (a bereavement).
# A false alarm costs a citizen a kind word and a place ahead in the queue; a miss can cost more,
# so the list leans towards answering.
_CRISIS_RE = re.compile(
    "|".join((
        r"自杀", r"自尽", r"轻生", r"寻短见", r"寻死", r"自残", r"自我了断", r"了结自己", r"了断自己",
        r"结束(?:自己的)?生命", r"结束这一切", r"想不开(?![发开具票])", r"不想(?:再)?活(?![动儿])",
        r"不活了", r"活不下去", r"活不成了", r"活够了", r"活着(?:没|有什么|有啥|还有什么)(?:意思|意义|用)",
        r"活着(?:好|太|真)?累", r"不想(?:再)?撑", r"撑不下去", r"不如死了", r"死了算了", r"一死了之",
        r"一了百了", r"生不如死", r"遗书",
        r"(?<!得)想死(?![后亡你了吧])", r"想死了(?!吧)", r"想去死", r"就去死", r"(?:我要|我该|准备|打算)去死",
        r"(?:我|想|要)离开这个世界", r"跳楼(?!价)", r"(?:从|往)楼上跳",
        r"(?:想|要|就|准备)[^，。,.!?！？]{0,6}跳下去", r"跳河(?!里?救)", r"跳江",
        r"跳桥", r"卧轨", r"上吊(?!销)", r"准备了?(?:一根)?绳子", r"烧炭", r"割腕", r"割脉", r"服毒", r"吞药",
        r"(?:吃|吞)了?[^，。,.!?！？]{0,6}安眠药", r"(?:吃|吞)了?一(?:整)?(?:瓶|盒|把)[^，。,.!?！？]{0,3}药",
        r"喝了?[^，。,.!?！？]{0,3}农药",
        # English and Japanese, which the desk otherwise answers with a language notice
        r"(?i:kill\s*myself|suicid|end\s*my\s*life|want\s*to\s*die|don'?t\s*want\s*to\s*live)",
        r"死にたい", r"自殺",
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
