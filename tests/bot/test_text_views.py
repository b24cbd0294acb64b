"""The text views the n-gram intent classifier learns from (bot/components/text_views.py)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from components.text_views import (
    has_settled_clause,
    initials_view,
    mark_negated_words,
    mark_negation,
    mark_settled,
    mark_settled_words,
    pinyin_view,
    question_clause,
    split_pinyin,
)


def test_negated_stretch_is_marked_up_to_the_positive_part():
    marked = mark_negation("我要办的是护照,不是港澳通行证,去美国用的那个")
    assert "¬港¬澳¬通¬行¬证" in marked
    assert "护照" in marked and "¬护" not in marked  # the wanted thing stays plain
    assert mark_negation("不是身份证，是居住证").endswith("，是居住证")
    assert mark_negation("不是身份证是居住证") == "不是¬身¬份¬证是居住证"


def test_text_without_negation_is_unchanged():
    for text in ("社保卡丢了怎么补办", "gjj怎么取", "", "不是"):
        assert mark_negation(text) == text


def test_word_level_negation_stops_at_clause_end():
    assert mark_negated_words(["不是", "身份证", "，", "是", "居住证"]) == ["不是", "NOT_身份证", "，", "是", "居住证"]
    assert mark_negated_words(["社保", "卡"]) == ["社保", "卡"]


def test_homophone_typos_share_the_pinyin_view():
    assert pinyin_view("公基金怎么取") == pinyin_view("公积金怎么取") == "gong ji jin zen me qu"
    assert pinyin_view("身分证") == pinyin_view("身份证")
    assert pinyin_view("Gjj 2024年") == "gjj 2024 nian"


def test_abbreviations_meet_the_characters_they_abbreviate():
    assert initials_view("公积金") == "gjj" == initials_view("GJJ")
    assert initials_view("身份证补办") == "sfzbb"
    assert initials_view("社保，医保") == "sb yb"


def test_pinyin_typed_without_an_input_method_meets_the_characters():
    assert pinyin_view("gongjijin tiqu") == pinyin_view("公积金提取") == "gong ji jin ti qu"
    assert initials_view("shebaoka") == initials_view("社保卡") == "sbk"
    # English words and abbreviations are not pinyin and stay as they are
    assert split_pinyin("hello") is None and split_pinyin("gjj") is None and split_pinyin("online") is None
    assert pinyin_view("app online") == "app online"


def test_negated_words_stay_apart_in_pinyin_and_initials():
    marked = mark_negation("我要开公司,不是注销")
    assert pinyin_view(marked).split()[-2:] == ["¬zhu", "¬xiao"]
    assert "zx" not in initials_view(marked)  # an abbreviation is positive evidence only
    assert initials_view(marked).startswith("wykgs")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_views_never_crash_and_keep_negation_local(text):
    marked = mark_negation(text)
    assert marked.replace("¬", "") == text.replace("¬", "")
    assert isinstance(pinyin_view(marked), str)
    assert set(initials_view(marked)) <= set("abcdefghijklmnopqrstuvwxyz ")


def test_question_clause_is_the_clause_that_asks():
    assert question_clause("孩子出生证明拿到了，户口怎么上") == "户口怎么上"
    assert question_clause("刚出生的孩子能落在示例市吗，我是人才落户过来的") == "刚出生的孩子能落在示例市吗"
    # no question word: the last clause; a single clause: the whole message
    assert question_clause("出生医学证明已经发了，现在要办出生登记") == "现在要办出生登记"
    assert question_clause("社保卡丢了") == "社保卡丢了"


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_question_clause_is_part_of_the_message(text):
    clause = question_clause(text)
    assert clause in text


def test_spaced_pinyin_is_syllables_only():
    from components.text_views import is_spaced_pinyin

    assert is_spaced_pinyin(["zai", "ma"]) and is_spaced_pinyin(["ban", "hu", "zhao"])
    assert not is_spaced_pinyin(["zai"])  # one syllable is as likely a stray word
    assert not is_spaced_pinyin(["a", "b", "c"]) and not is_spaced_pinyin(["qwerty", "zzzz"])
    assert not is_spaced_pinyin(["how", "are", "you"])


def test_a_finished_step_followed_by_a_turn_is_marked_like_a_negation():
    marked = mark_settled("公积金我已经转好了，现在是养老保险要怎么转")
    assert marked == "".join("¬" + c for c in "公积金我已经转好了") + "，现在是养老保险要怎么转"
    assert mark_settled("出生证明拿到了，但是生育津贴怎么领").startswith("¬出¬生¬证¬明")
    # "X我会查" turns by itself.
    assert mark_settled("社保记录我会查，公积金明细在哪看").startswith("¬社¬保")
    # Already negated characters are not marked twice.
    assert mark_settled(mark_negation("不是身份证办好了，现在要办居住证")) == "".join(
        "¬" + c for c in "不是身份证办好了") + "，现在要办居住证"


def test_a_finished_step_without_a_turn_is_what_the_question_is_about():
    for text in ("社保转移办完了，外地交的那几年怎么还没并进来",  # no turn: the same matter
                 "护照办好了吗",  # nothing follows
                 "我已经交了15年社保，能领养老金吗",  # paying is background, not a finished errand
                 "营业执照办好了，现在呢"):  # the turn leaves too little to go on
        assert not has_settled_clause(text), text
        assert mark_settled(text) == text


def test_settled_words_match_the_character_marking():
    tokens = ["公积金", "我", "已经", "转", "好", "了", "，", "现在", "是", "养老保险", "怎么", "转"]
    assert mark_settled_words(tokens) == ["NOT_公积金", "NOT_我", "NOT_已经", "NOT_转", "NOT_好", "NOT_了", "，",
                                          "现在", "是", "养老保险", "怎么", "转"]
    assert mark_settled_words(["NOT_身份证", "办", "好", "了", "，", "现在", "要", "办", "居住证"])[0] == "NOT_身份证"
    assert mark_settled_words(["护照", "办", "好", "了", "吗"]) == ["护照", "办", "好", "了", "吗"]


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_settled_marking_never_loses_text(text):
    marked = mark_settled(text)
    assert marked.replace("¬", "") == text.replace("¬", "")


def test_what_a_citizen_says_is_unrelated_is_marked_like_a_negation():
    assert mark_negation("每个月能领点钱，跟退休金没关系的那种") == "每个月能领点钱，跟¬退¬休¬金没关系的那种"
    assert mark_negation("这个和社保无关") == "这个和¬社¬保无关"
    # Only a short stretch, inside one clause
    assert mark_negation("我跟你说，社保没关系") == "我跟你说，社保没关系"
