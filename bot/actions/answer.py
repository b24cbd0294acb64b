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
_PADDING = re.compile(r"[\s\W_]+|请问|问一下|问下|咨询一下|咨询|我想问|我要问|方面的问题|相关问题|方面|相关|的问题|问题")


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
    ("fee", re.compile(r"收费|多少钱|费用|要钱|花钱|免费|交钱|给钱|几块钱|工本费")),
    ("online", re.compile(r"网上|线上|在线|手机|app|小程序|公众号|不用跑|不去现场|足不出户|网办")),
    ("offline", re.compile(r"在哪|哪里办|去哪|到哪|地址|窗口|大厅|现场|怎么去|线下")),
    ("conditions", re.compile(r"条件|能不能|可不可以|可以吗|能办吗|符合|资格|要求|需要满足")),
)


def asked_aspects(text: str) -> List[str]:
    """The parts of a guide the question asks about, in the guide's order ([] = a general question)."""
    text = (text or "").lower()
    return [name for name, cue in ASPECT_CUES if cue.search(text)]


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
    core = _PADDING.sub("", (text or "").lower())
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
