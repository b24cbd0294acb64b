"""What the intent classifier should read in place of a message's raw surface.

Two things citizens type carry meaning the n-gram views cannot see:

* **numbers**: a resident ID or mobile number says nothing about what the
  citizen needs ("转人工 110101199003071234", "护照怎么办，我的身份证号…"),
  but its digits share n-grams with tracking numbers (SL20261203-0001, a
  case-status cue), and a word for it ("身份证号码") would be evidence for the
  ID-card topic. So ID and mobile numbers are removed, and only a tracking
  number is replaced by the word for it (受理编号).
* **colloquial and old names** (扯证, 房本, 暂住证, 良民证, 尊老金): citizens
  use dozens of them and no amount of examples lists them all, so a short
  lexicon adds the official term next to them, like the English glossary.
* **pinyin abbreviations** (gjj, sfz, jzz, rxbm): typed without an input
  method; a short list of the unambiguous ones adds the Chinese term.
* **English words mixed into Chinese** ("business license 多久能拿到",
  "housing fund loan 额度"): the training data cannot hold every English
  phrasing of 47 services, so a glossary of service terms adds the Chinese
  term next to the English one. The original words stay in the text.

Pure functions over strings; the glossary is part of the model's inputs
(bot/components is hashed by scripts/train_bot.sh).
"""
from __future__ import annotations

import re
from typing import List

from channels.normalize import ID_NUMBER_RE, PHONE_RE, TRACKING_NO_RE

# English term -> the Chinese term citizens would otherwise have typed. Service
# nouns and the verbs that pick a service (withdraw, transfer, renew); no generic
# words ("how", "apply") that would add evidence for every topic alike.
ENGLISH_TERMS = {
    # 社保 / 医保
    "social security": "社保", "social insurance": "社保", "pension": "养老金",
    "retirement": "退休", "retire": "退休", "unemployment benefit": "失业金",
    "unemployment benefits": "失业金", "unemployment insurance": "失业保险",
    "unemployed": "失业", "unemployment": "失业", "work injury": "工伤",
    "injured at work": "工伤", "industrial injury": "工伤",
    "medical insurance": "医保", "health insurance": "医保", "reimbursement": "报销",
    "reimburse": "报销", "chronic disease": "慢性病", "chronic illness": "慢性病",
    "hospital": "医院", "hospitalized": "住院", "social security card": "社保卡",
    # 公积金
    "housing fund": "公积金", "provident fund": "公积金", "housing provident fund": "公积金",
    "withdraw": "提取", "withdrawal": "提取", "loan": "贷款", "mortgage": "贷款",
    "transfer": "转移", "balance": "余额",
    # 户籍与证件
    "hukou": "户口", "household registration": "户口", "newborn": "新生儿",
    "new born": "新生儿", "baby": "宝宝", "settle": "落户", "settlement": "落户",
    "residence permit": "居住证", "residence card": "居住证", "id card": "身份证",
    "identity card": "身份证", "passport": "护照", "hong kong": "香港", "macau": "澳门",
    "macao": "澳门", "travel permit": "通行证", "endorsement": "签注",
    # 车驾管
    "driver license": "驾驶证", "driver's license": "驾驶证", "drivers license": "驾驶证",
    "driving license": "驾驶证", "driving licence": "驾驶证", "annual inspection": "年检",
    "vehicle inspection": "年检", "car inspection": "年检", "traffic violation": "违章",
    "traffic fine": "罚款", "speeding": "超速",
    # 企业与税务
    "business license": "营业执照", "business licence": "营业执照",
    "register a company": "公司注册", "company registration": "公司注册",
    "deregistration": "注销", "deregister": "注销", "close my company": "注销公司",
    "tax refund": "退税", "income tax": "个税", "iit": "个税", "tax": "税",
    "invoice": "发票", "fapiao": "发票", "e-invoice": "电子发票",
    # 不动产 / 民政
    "property certificate": "房产证", "real estate certificate": "房产证",
    "property": "房产", "real estate": "不动产", "marriage": "结婚", "married": "结婚",
    "marry": "结婚", "divorce": "离婚", "subsistence allowance": "低保",
    "low income": "低保", "disability": "残疾", "disabled": "残疾",
    "elderly allowance": "高龄津贴", "senior allowance": "高龄津贴",
    # 教育 / 卫健 / 就业
    "school enrollment": "入学报名", "enrollment": "入学报名", "enrolment": "入学报名",
    "primary school": "小学", "middle school": "初中", "diploma": "学历",
    "degree certificate": "学位证", "education certificate": "学历证明",
    "maternity allowance": "生育津贴", "maternity": "生育", "birth certificate": "出生证明",
    "employment registration": "就业登记", "startup loan": "创业贷款",
    "business loan": "创业贷款", "graduate": "毕业生", "graduates": "毕业生",
    "subsidy": "补贴", "allowance": "补贴", "talent": "人才", "wages": "工资",
    "salary": "工资", "unpaid wages": "欠薪", "wage arrears": "欠薪", "arbitration": "仲裁",
    # 服务渠道与对话
    "service center": "政务服务中心", "service centre": "政务服务中心",
    "address": "地址", "opening hours": "上班时间", "office hours": "上班时间",
    "working hours": "上班时间", "appointment": "预约", "booking": "预约",
    "queue number": "取号", "password": "密码", "login": "登录", "log in": "登录",
    "account": "账号", "company": "公司", "complaint": "投诉", "complain": "投诉", "suggestion": "建议",
    "no criminal record": "无犯罪记录证明", "criminal record": "无犯罪记录证明",
    "certificate": "证明", "real person": "人工", "human agent": "人工",
    "customer service": "人工客服", "operator": "人工", "status": "进度", "progress": "进度",
}

# Colloquial, regional or superseded name -> the official term. Only names that
# mean one service wherever they occur (no 领证, which can be any certificate).
COLLOQUIAL_TERMS = {
    "退休工资": "养老金", "退休金": "养老金", "养老钱": "养老金", "失业救济金": "失业保险金",
    "失业补助": "失业保险金", "医保卡": "社保卡", "慢病本": "门诊慢特病", "慢病卡": "门诊慢特病",
    "门慢": "门诊慢特病", "门特病": "门诊慢特病", "特殊病种": "门诊慢特病", "新农合": "城乡居民医保",
    "合作医疗": "城乡居民医保", "暂住证": "居住证", "良民证": "无犯罪记录证明", "无罪证明": "无犯罪记录证明",
    "准生证": "生育登记", "出生纸": "出生医学证明", "驾照": "驾驶证", "驾驶本": "驾驶证", "驾本": "驾驶证",
    "开车证": "驾驶证", "开车本": "驾驶证", "开车的本": "驾驶证", "验车": "年检", "审车": "年检", "车检": "年检", "罚单": "违章", "电子眼": "违章",
    "扯证": "结婚登记", "扯结婚证": "结婚登记", "房本": "房产证", "个体执照": "个体工商户营业执照",
    "残补": "残疾人两项补贴", "两项补贴": "残疾人两项补贴", "尊老金": "高龄津贴", "敬老金": "高龄津贴",
    "长寿金": "高龄津贴", "寿星补贴": "高龄津贴", "小升初": "初中入学", "幼升小": "小学入学",
    "学信网": "学历认证", "文凭": "学历证书", "产假工资": "生育津贴", "生育金": "生育津贴", "就创证": "就业创业证",
    "失业证": "就业创业证", "创业贷": "创业担保贷款", "讨薪": "欠薪", "工钱": "工资",
    "市民中心": "政务服务中心", "行政服务中心": "政务服务中心", "办事大厅": "政务服务中心",
    "网厅": "网上办事", "回执号": "受理编号", "受理号": "受理编号", "工单号": "受理编号",
    "出粮": "发工资",
}
# Descriptions of a service instead of its name, in the shapes citizens vary ("看病用的那个国家
#保险", "开车的那张本子", "工资里扣的那笔住房存款"): a pattern each, with the official term.
DESCRIPTION_TERMS = (
    (re.compile(r"看病(?:用)?的?(?:那个|那种)?(?:国家)?保险"), "医保"),
    (re.compile(r"开车(?:用)?的?(?:那个|那张|那本)?本子?"), "驾驶证"),
    (re.compile(r"住房(?:的)?(?:存款|钱)"), "公积金"),
)
# Pinyin-initial abbreviations citizens type without an input method ("jzz丢了", "rxbm"),
# read as whole Latin tokens. Only ones that name one service; not sb, gs, hk, nj, wz,
# which are as often something else (an insult, 公司/工伤/个税, Hong Kong, 南京, 网站).
ABBREVIATIONS = {
    "gjj": "公积金", "sfz": "身份证", "jzz": "居住证", "sbk": "社保卡", "yb": "医保", "hz": "护照",
    "jsz": "驾驶证", "gat": "港澳通行证", "txz": "通行证", "hkb": "户口本", "yyzz": "营业执照",
    "bdc": "不动产", "bdcz": "不动产权证书", "fcz": "房产证", "ylj": "养老金", "syj": "失业金",
    "syjt": "生育津贴", "rxbm": "入学报名", "xlrz": "学历认证", "jhz": "结婚证", "lhz": "离婚证",
    "cszm": "出生证明", "wfzjl": "无犯罪记录证明", "ydjy": "异地就医", "cydk": "创业贷款",
    "ldzc": "劳动仲裁", "ywtb": "一网通办", "jdc": "机动车", "gjjdk": "公积金贷款",
    "rg": "人工", "zrg": "转人工",
}
# Emoji whose meaning in a chat is one word ("🙏" after an answer is thanks). Faces are
# left alone: 😊 or 😭 go with any question.
EMOJI_TERMS = {"🙏": "谢谢", "👍": "好的", "👌": "好的"}
# An age of 80 or more ("奶奶八十六了", "我妈85了", "90周岁"): citizens describe the
# elderly allowance by the age, in digits or Chinese numerals, rarely by its name. One
# shared term lets every form of the age count the same; whether it decides the topic
# is learned, and training examples of people that old asking about other services
# (医保报销, 社保卡, 身份证 …) keep it from deciding alone.
AGE_TERM = "八十岁以上"
_AGE_RE = re.compile(
    r"(?<![\d.])(?:[89]\d|1[01]\d)(?:多?周?岁|了|大寿)"
    r"|(?:八十|九十|一百)[一二三四五六七八九]?(?:多?周?岁|了|多|大寿)"
    r"|(?:过了|满|年过)(?:八十|九十|一百)|百岁"
)
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in EMOJI_TERMS))
_ABBREVIATION_RE = re.compile(r"(?<![a-z])(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![a-z])")
_COLLOQUIAL_RE = re.compile("|".join(re.escape(t) for t in sorted(COLLOQUIAL_TERMS, key=len, reverse=True)))

_TERM_RE = re.compile(
    r"(?<![a-z])(" + "|".join(re.escape(t) for t in sorted(ENGLISH_TERMS, key=len, reverse=True)) + r")(?![a-z])"
)
# What stands in for each kind of number; spaces keep it apart from the words around it.
_PLACEHOLDERS = ((TRACKING_NO_RE, " 受理编号 "), (ID_NUMBER_RE, " "), (PHONE_RE, " "))


def replace_numbers(text: str) -> str:
    """Tracking numbers -> 受理编号; resident-ID and mobile numbers removed."""
    for pattern, word in _PLACEHOLDERS:
        text = pattern.sub(word, text)
    return text


def number_kinds(text: str) -> List[str]:
    """The words standing in for the numbers in ``text`` (one per tracking number)."""
    kinds = []
    for pattern, word in _PLACEHOLDERS:
        if word.strip():
            kinds += [word.strip()] * len(pattern.findall(text))
        text = pattern.sub(" ", text)
    return kinds


def english_glosses(text: str) -> List[str]:
    """Chinese terms for the English service terms in ``text``, in order, longest match first."""
    return [ENGLISH_TERMS[m.group(1)] for m in _TERM_RE.finditer(text.lower())]


def colloquial_glosses(text: str) -> List[str]:
    """Official terms for the colloquial names in ``text`` ("扯证要带啥" -> 结婚登记)."""
    return [COLLOQUIAL_TERMS[m.group(0)] for m in _COLLOQUIAL_RE.finditer(text)]


def description_glosses(text: str) -> List[str]:
    """The official term for each service a message describes instead of naming."""
    return [term for pattern, term in DESCRIPTION_TERMS if pattern.search(text)]


def abbreviation_glosses(text: str) -> List[str]:
    """Chinese terms for pinyin-initial abbreviations typed as whole tokens ("jzz丢了" -> 居住证)."""
    return [ABBREVIATIONS[m.group(1)] for m in _ABBREVIATION_RE.finditer(text.lower())]


def age_glosses(text: str) -> List[str]:
    """``AGE_TERM`` once when the message gives an age of 80 or more ("我妈85了" -> 八十岁以上)."""
    return [AGE_TERM] if _AGE_RE.search(text) else []


def emoji_glosses(text: str) -> List[str]:
    """Words for the emoji of ``EMOJI_TERMS`` in ``text`` ("🙏" -> 谢谢)."""
    return [EMOJI_TERMS[m.group(0)] for m in _EMOJI_RE.finditer(text)]


def glosses(text: str) -> List[str]:
    """Every term added to a message: the official ones for colloquial names, English terms,
    pinyin abbreviations, an old age and a few emoji."""
    return (colloquial_glosses(text) + description_glosses(text) + english_glosses(text)
            + abbreviation_glosses(text) + age_glosses(text) + emoji_glosses(text))


def gloss(text: str) -> str:
    """The message as the classifier reads it: numbers replaced, names glossed."""
    text = replace_numbers(text)
    terms = glosses(text)
    return f"{text} {' '.join(terms)}" if terms else text
