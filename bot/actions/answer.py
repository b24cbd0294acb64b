"""Answer a knowledge topic from data/kb/<topic>.yml."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.kb import KnowledgeBase, Topic, get_kb
from actions.reply import send

MAX_RELATED_BUTTONS = 3
# A second knowledge topic at least this likely (calibrated classifier probability) is
# offered first under the answer: questions that mix two services ("在外地看病没备案怎么报销")
# are common, and one tap is cheaper for the citizen than a wrong answer and a retry.
RUNNER_UP_MIN_CONFIDENCE = 0.25
# Polite padding around a bare category name: "请问社保", "公积金方面的问题", "咨询一下医保"
_PADDING = re.compile(r"[\s\W_]+|请问|问一下|问下|咨询一下|咨询|我想问|我要问|方面的问题|相关问题|方面|相关|的问题|问题"
                      r"|^那|^还有|呢$|吧$")


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    for ent in (tracker.latest_message or {}).get("entities") or []:
        if ent.get("entity") == name and ent.get("value"):
            return str(ent["value"])
    return None


# What a question asks about, by the words citizens use for it. A question that names an
# aspect ("要带什么材料", "多久能办好", "收费吗") gets that part of the guide first, so the
# citizen does not have to find it in the whole entry; the rest of the guide follows.
ASPECT_CUES = (
    ("materials", re.compile(r"材料|带什么|带啥|带哪些|准备什么|准备啥|准备哪些|需要什么|要什么证|要哪些证|要啥证"
                             r"|啥东西|什么东西|哪些东西")),
    # "能领多久", "能贷多久" ask how long a benefit or loan lasts, not how long the office takes.
    ("time_limit", re.compile(r"(?<![领贷交缴用住存])(多久|多长时间)|几天|几个工作日|多少天|时限|多快|啥时候能"
                              r"|什么时候能|到账")),
    # "能领多少钱", "每个月发多少钱", "还有多少钱" ask about an amount received or held, not a fee.
    ("fee", re.compile(r"收费|(?<![领发补贷有剩])多少钱|费用|要钱|花钱|免费|交钱|给钱|几块钱|工本费")),
    ("online", re.compile(r"网上|线上|在线|手机|app|小程序|公众号|支付宝|微信|不用跑|不去现场|足不出户|网办")),
    ("offline", re.compile(r"在哪|哪里办|哪里能办|哪儿办|去哪|到哪|上哪|地址|窗口|大厅|现场|怎么去|线下")),
    ("conditions", re.compile(r"条件|能不能|可不可以|可以吗|能办吗|符合|资格|要求|需要满足")),
)


def asked_aspects(text: str) -> List[str]:
    """The parts of a guide the question asks about, in the guide's order ([] = a general question)."""
    text = (text or "").lower()
    return [name for name, cue in ASPECT_CUES if cue.search(text)]


# A follow-up ("多久能拿到", "要不要钱", "流程是怎样的", "那利率是多少", "需要体检吗") is a short
# question that names no service of its own: it continues the topic just answered. A question
# that names a service ("护照要多久", "怎么交罚款") is a new question; so is small talk, a thanks,
# a request for a person or a case-progress question.
FOLLOW_UP_MAX_CHARS = 9
_QUESTION = re.compile(r"吗|呢|么|嘛|多久|多少|多长|几|哪|怎么|怎样|如何|什么|啥|咋|能不能|可不可以|要不要|"
                       r"是不是|是否|可以|需要|需不需要|有没有|谁")
_SERVICE_WORDS = re.compile(
    r"社保|社会保险|医保|医疗|看病|住院|门诊|慢性病|公积金|贷款|房贷|户口|户籍|落户|迁入|身份证|居住证|护照|通行证|"
    r"签注|港澳|出国|驾驶证|驾照|机动车|车辆|年检|违章|罚款|扣分|营业执照|执照|公司|企业|个体户|注销|个税|税|发票|"
    r"房产|不动产|过户|结婚|离婚|婚姻|低保|残疾|高龄|津贴|补贴|养老|退休|失业|工伤|就业|创业|工资|欠薪|仲裁|入学|"
    r"上学|报名|学历|毕业证|出生证|新生儿|宝宝|生育|无犯罪|证明|大厅|中心|预约|取号|投诉|12345|账号|密码|余额|"
    r"社保卡|卡|医院|发烧|生病|疫苗|车|上牌|户口本|高考|成绩|房子|租房|托育|幼儿园")
# Not a follow-up whatever its length: small talk, thanks and goodbyes, a person, case progress.
_NOT_A_FOLLOW_UP = re.compile(r"天气|下雨|气温|股票|基金|笑话|电影|吃饭|你是|你叫|你好|您好|在吗|在不在|谢谢|感谢|再见|拜拜|"
                              r"人工|客服|真人|进度|编号|受理号|工单")
# "要带身份证吗" after 居住证 asks about a material to bring, not about the ID card.
_MATERIAL_TO_BRING = re.compile(r"带(?:上|着)?(?:本人的?|原件|复印件)?[^，。,.!?！？]{1,6}?(?=吗|么|嘛|不|没)")
_NOT_CORE = re.compile(r"[\s\W_]+")
# Replies after which an earlier answer is no longer what the citizen is talking about.
CONTEXT_BREAKING_KINDS = frozenset({"greet", "goodbye", "handoff", "out_of_scope", "case_status", "menu"})
# How many user turns back the last answered topic still counts as "what we are talking about".
FOLLOW_UP_TURNS = 3


def is_follow_up(text: str) -> bool:
    """A short question that names no service of its own (see ``_SERVICE_WORDS``)."""
    core = _NOT_CORE.sub("", (text or "").lower())
    if not core or len(core) > FOLLOW_UP_MAX_CHARS or _NOT_A_FOLLOW_UP.search(core):
        return False
    if not (asked_aspects(core) or _QUESTION.search(core)):
        return False
    return not _SERVICE_WORDS.search(_MATERIAL_TO_BRING.sub("带", core))


def last_answered_topic(tracker: Tracker) -> Optional[str]:
    """The topic of the bot's last knowledge answer in this session, within FOLLOW_UP_TURNS turns."""
    user_turns = 0
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "session_started":
            return None
        if kind == "user":
            user_turns += 1
            if user_turns > FOLLOW_UP_TURNS:
                return None
        elif kind == "bot":
            meta = (((event.get("data") or {}).get("custom") or {}).get("metadata") or {})
            if meta.get("kind") == "answer" and meta.get("topic"):
                return str(meta["topic"])
            if meta.get("kind") in CONTEXT_BREAKING_KINDS:
                return None  # the conversation moved on ("好的谢谢", a new subject refused, a person)
    return None


def answer_follow_up(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker) -> bool:
    """Answer "那要多久？" after a 护照 answer with the 护照 guide's time limit first.

    Such a message has no subject of its own, so the classifier's reading of it is noise (it
    fell back, or read "要多少钱" as a private money dispute); the citizen means the topic just
    answered. Returns whether it answered.
    """
    text = (tracker.latest_message or {}).get("text") or ""
    if not is_follow_up(text):
        return False
    topic = kb.get(last_answered_topic(tracker))
    if topic is None:
        return False
    send(dispatcher, text=render_topic(kb, topic, district=latest_entity(tracker, "district"), question=text),
         kind="answer", topic=topic.id, buttons=related_buttons(kb, topic.related), related=topic.related,
         source=topic.source)
    return True


def render_topic(kb: KnowledgeBase, topic: Topic, *, district: Optional[str] = None, question: str = "") -> str:
    branch = (kb.dialogue.get("districts") or {}).get(district or "")
    sections = {
        "conditions": [f"办理条件：{topic.conditions}"],
        "materials": ["所需材料："] + [f"{i}. {m}" for i, m in enumerate(topic.materials, 1)],
        "online": [f"网上办理：{topic.online}"],
        "offline": [f"现场办理：{topic.offline}"]
        + ([f"您提到{district}，也可就近到{branch}办理。"] if branch else []),
        "time_limit": [f"办理时限：{topic.time_limit}"],
        "fee": [f"收费：{topic.fee}"],
    }
    asked = asked_aspects(question)
    if len(asked) in (1, 2):  # a focused question; naming three or more is a general one
        lines = [f"【{topic.title}】"]
        for name in asked:
            lines += sections.pop(name)
        lines += ["", "完整办事指南：", topic.summary]
    else:
        lines = [f"【{topic.title}】", topic.summary]
    for name in ("conditions", "materials", "online", "offline"):
        lines += sections.pop(name, [])
    rest = [sections[name][0] for name in ("time_limit", "fee") if name in sections]
    if rest:
        lines.append("；".join(line.rstrip("。") for line in rest) + "。")
    lines.append(f"政策依据：{topic.policy}（{topic.effective_date}起施行）。具体以窗口最新要求为准。")
    return "\n".join(lines)


def runner_up(kb: KnowledgeBase, tracker: Tracker, answered: str) -> Optional[str]:
    """The next most likely knowledge topic after ``answered``, if it was a close call."""
    for item in (tracker.latest_message or {}).get("intent_ranking") or []:
        name = item.get("name")
        if name == answered or kb.get(name) is None:
            continue  # the answered topic itself, dialogue intents, nlu_fallback
        return name if float(item.get("confidence") or 0.0) >= RUNNER_UP_MIN_CONFIDENCE else None
    return None


def offered_topics(topic: Topic, alternative: Optional[str]) -> List[str]:
    """Topics suggested under an answer: a close runner-up first, then the related ones."""
    return ([alternative] if alternative else []) + [r for r in topic.related if r != alternative]


def related_buttons(kb: KnowledgeBase, topic_ids: List[str]) -> List[tuple]:
    return [(kb.topics[rid].title, f"/{rid}") for rid in topic_ids[:MAX_RELATED_BUTTONS] if kb.get(rid)]


def bare_category(kb: KnowledgeBase, text: str) -> Optional[str]:
    """The category a message names and nothing else ("社保", "请问公积金？"), if any."""
    core = _PADDING.sub("", _PADDING.sub("", (text or "").lower()))  # twice: "那社保呢？" ends in 呢 once ？ is gone
    if not core:
        return None
    aliases = kb.dialogue.get("category_aliases") or {}
    category = aliases.get(core, core)
    return category if category in kb.categories() else None


def category_buttons(kb: KnowledgeBase, category: str, first: Optional[str]) -> List[tuple]:
    topics = sorted(kb.topics.values(), key=lambda t: (t.id != first, t.id))
    return [(t.title, f"/{t.id}") for t in topics if t.category == category]


class ActionAnswerTopic(Action):
    def __init__(self) -> None:
        self.kb = get_kb()  # fail at action-server start, not on the first question

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        topic = self.kb.get(intent)
        if answer_follow_up(dispatcher, self.kb, tracker):
            return []
        if topic is None:
            # A rule sent a non-topic intent here: treat it like not understanding.
            from actions.fallback import send_fallback

            send_fallback(dispatcher, tracker, self.kb)
            return []
        category = bare_category(self.kb, (tracker.latest_message or {}).get("text") or "")
        if category:
            # Too broad to pick one topic; the classifier's guess is offered first.
            send(
                dispatcher,
                text=self.kb.text("menu", category=category),
                kind="menu",
                topic=topic.id,
                buttons=category_buttons(self.kb, category, first=topic.id),
            )
            return []
        text = render_topic(self.kb, topic, district=latest_entity(tracker, "district"),
                            question=(tracker.latest_message or {}).get("text") or "")
        alternative = runner_up(self.kb, tracker, topic.id)
        if alternative:
            text += "\n" + self.kb.text("runner_up", title=self.kb.topics[alternative].title)
        offered = offered_topics(topic, alternative)
        send(
            dispatcher,
            text=text,
            kind="answer",
            topic=topic.id,
            buttons=related_buttons(self.kb, offered),
            related=offered,
            source=topic.source,
        )
        return []
