"""What the classifier reads: numbers named by their kind, English service terms glossed."""
from components.message_gloss import (
    ABBREVIATIONS,
    AGE_TERM,
    COLLOQUIAL_TERMS,
    ENGLISH_TERMS,
    abbreviation_glosses,
    age_glosses,
    colloquial_glosses,
    description_glosses,
    emoji_glosses,
    english_glosses,
    gloss,
    number_kinds,
    replace_numbers,
)


def test_id_and_phone_numbers_are_removed_and_tracking_numbers_named():
    text = "我的身份证号110101199003071234丢了，回电13812345678，编号SL20261203-0001"
    named = replace_numbers(text)
    assert "110101199003071234" not in named and "13812345678" not in named and "SL2026" not in named
    assert "受理编号" in named and "身份证号码" not in named and "手机号码" not in named
    assert number_kinds(text) == ["受理编号"]
    # nothing that points at a topic is left where an ID number was
    assert replace_numbers("转人工 110101199003071234").strip() == "转人工"


def test_short_numbers_with_meaning_stay():
    # Hotlines are evidence for their topics; only ID/phone/tracking numbers are replaced.
    assert replace_numbers("打12345投诉") == "打12345投诉"
    assert number_kinds("打12345投诉") == []


def test_english_terms_are_glossed_longest_first_and_kept():
    assert english_glosses("宝宝birth certificate丢了") == ["出生证明"]
    assert english_glosses("Housing Fund LOAN 额度") == ["公积金", "贷款"]
    assert gloss("passport怎么办") == "passport怎么办 护照"


def test_english_inside_longer_words_is_not_glossed():
    assert english_glosses("taxi") == [] and english_glosses("subtax") == []
    assert gloss("社保卡丢了") == "社保卡丢了"


def test_colloquial_names_get_the_official_term():
    assert colloquial_glosses("扯证要带啥") == ["结婚登记"]
    assert gloss("房本丢了，暂住证也到期了") == "房本丢了，暂住证也到期了 房产证 居住证"
    # "门特" is not listed on its own: it hides inside 部门特别
    assert colloquial_glosses("这个部门特别慢") == []


def test_a_service_described_instead_of_named_gets_its_term():
    assert description_glosses("孩子看病用的那个国家保险要怎么办") == ["医保"]
    assert description_glosses("宝宝看病的保险也想交上") == ["医保"]
    assert description_glosses("开车的那张本子快到期了") == ["驾驶证"]
    assert description_glosses("工资里每月扣的那笔住房存款能贷多少") == ["公积金"]
    assert description_glosses("单位给我存了多少住房的钱") == ["公积金"]
    # Words near but not describing a service
    assert description_glosses("看病要带什么") == [] and description_glosses("开车去大厅方便吗") == []


def test_every_gloss_is_chinese():
    terms = {**ENGLISH_TERMS, **COLLOQUIAL_TERMS}
    assert all(v and all("\u4e00" <= ch <= "\u9fff" for ch in v) for v in terms.values())
    assert all(k == k.lower() and k.strip() == k for k in ENGLISH_TERMS)


def test_pinyin_abbreviations_get_the_chinese_term():
    assert abbreviation_glosses("JZZ丢了") == ["居住证"]
    assert gloss("rxbm") == "rxbm 入学报名"
    assert abbreviation_glosses("转rg") == ["人工"] and abbreviation_glosses("zrg") == ["转人工"]
    # Whole Latin tokens only, and ambiguous ones (sb, gs, hk) are not listed.
    assert abbreviation_glosses("abcjzz") == [] and abbreviation_glosses("sb gs hk") == []
    assert all(k == k.lower() and k.isascii() and k.isalpha() for k in ABBREVIATIONS)
    assert all(all("\u4e00" <= ch <= "\u9fff" for ch in v) for v in ABBREVIATIONS.values())


def test_an_age_of_eighty_or_more_is_one_term_in_any_numerals():
    for text in ("我妈85了政府给不给钱", "奶奶今年八十六了", "90周岁老人", "家里老人过了八十", "百岁老人", "外公100岁大寿"):
        assert age_glosses(text) == [AGE_TERM], text
    # younger ages, birth decades, years and amounts are not ages of 80+
    for text in ("我妈58了", "80后买房", "1985年出生", "交了85块", "等了12.85岁", "七十九岁"):
        assert age_glosses(text) == [], text


def test_emoji_with_one_meaning_are_glossed():
    assert emoji_glosses("🙏") == ["谢谢"] and emoji_glosses("好的👍") == ["好的"]
    assert emoji_glosses("社保卡丢了😭") == []
