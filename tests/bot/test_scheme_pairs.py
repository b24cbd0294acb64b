"""Topics asked in the same words of two schemes are settled by the scheme the message names."""
import numpy as np

from components.scheme_pairs import SCHEME_NAMES, SCHEME_PAIRS, named_schemes, settle_scheme_pairs

CLASSES = ["gjj_zhuanyi", "shebao_ka", "shebao_zhuanyi"]


def test_scheme_names_are_found_also_abbreviated_and_not_when_negated():
    assert named_schemes("社保可以转到新单位所在城市吗") == {"social_insurance"}
    assert named_schemes("gjj转到新单位所在城市") == {"housing_fund"}  # read after the gloss
    assert named_schemes("SB关系转到示例市") == {"social_insurance"}
    assert named_schemes("联系函发过去一个月了没回复") == {"social_insurance"}
    assert named_schemes("养老保险转移，不是公积金转移") == {"social_insurance"}
    assert named_schemes("换城市了怎么转过去") == frozenset()
    assert named_schemes("公积金转过去要带社保卡吗") == {"housing_fund"}  # a card to bring is no scheme
    assert named_schemes("社保转了，公积金也要转吗") == {"social_insurance", "housing_fund"}
    # "sb" inside a Latin word is not the abbreviation
    assert named_schemes("usb转接头") == frozenset()


def test_named_scheme_moves_the_top_topic_to_its_partner():
    probs = np.array([0.9, 0.02, 0.08])
    settled = settle_scheme_pairs("社保可以转到新单位所在城市吗", probs, CLASSES)
    assert settled.tolist() == [0.08, 0.02, 0.9]
    assert probs.tolist() == [0.9, 0.02, 0.08]  # the input is not changed


def test_model_decides_when_the_message_names_both_neither_or_its_own_scheme():
    probs = np.array([0.9, 0.02, 0.08])
    for text in ("换城市了怎么转过去", "社保转了，公积金也要转吗", "公积金转到新单位所在城市"):
        assert settle_scheme_pairs(text, probs, CLASSES) is probs


def test_top_topic_outside_every_pair_is_left_alone():
    probs = np.array([0.1, 0.8, 0.1])
    assert settle_scheme_pairs("社保卡丢了，gjj转移要它吗", probs, CLASSES) is probs
    unrecognised = np.zeros(3)
    assert settle_scheme_pairs("社保", unrecognised, CLASSES) is unrecognised


def test_pairs_name_known_schemes():
    for pair in SCHEME_PAIRS:
        assert len(pair) == 2 and set(pair.values()) <= set(SCHEME_NAMES)
