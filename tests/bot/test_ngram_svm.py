"""The n-gram SVM behind the intent classifier, on a small hand-made problem."""
import numpy as np
import pytest

from components.ngram_svm import TEMPERATURES, NgramSvm

TRAIN = {
    "gjj": ["公积金提取", "公积金怎么取出来", "租房提取公积金", "公积金余额", "公积金能取吗", "住房公积金提取条件", "gjj余额"],
    "sfz": ["身份证补办", "身份证丢了", "办身份证要多久", "身份证到期换证", "临时身份证", "身份证在哪办"],
    "gat": ["港澳通行证", "去香港办通行证", "港澳签注", "通行证续签", "澳门签注怎么办", "港澳通行证过期"],
}


def _rows(texts):
    # words: one token per character is enough for these tests
    return [(t, list(t)) for t in texts]


@pytest.fixture(scope="module")
def model():
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [k for k, ts in TRAIN.items() for _ in ts]
    return NgramSvm({"calibration_folds": 3}).fit(_rows(texts), labels)


def test_probabilities_are_calibrated_softmax(model):
    probs = model.predict_proba(_rows(["身份证丢了怎么办", "随便说点什么"]))
    assert probs.shape == (2, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert model.temperature in TEMPERATURES
    assert model.classes[int(probs[0].argmax())] == "sfz"


def test_homophone_typo_and_abbreviation_reach_the_topic(model):
    probs = model.predict_proba(_rows(["公基金提取", "gjj提取"]))
    assert [model.classes[int(i)] for i in probs.argmax(axis=1)] == ["gjj", "gjj"]


def test_unseen_words_are_less_certain_than_known_ones(model):
    known, unknown = model.predict_proba(_rows(["港澳通行证签注", "qwzx ptkv"])).max(axis=1)
    assert known > unknown


def test_text_of_never_seen_characters_gets_no_confidence(model):
    # Their syllables (long, cuan ...) would otherwise match trained pinyin n-grams.
    probs = model.predict_proba(_rows(["龘靐齉", "爩爨"]))
    assert np.all(probs == 0.0)


def test_latin_junk_gets_no_confidence_but_abbreviations_and_pinyin_do(model):
    # "gggg" shares n-grams with the trained "gjj"; none of these is a trained token or pinyin.
    junk = model.predict_proba(_rows(["gggg", "zzzz", "asdf 123"]))
    assert np.all(junk == 0.0)
    probs = model.predict_proba(_rows(["GJJ", "gongjijin tiqu", "gong ji jin ti qu"]))
    assert [model.classes[int(i)] for i in probs.argmax(axis=1)] == ["gjj", "gjj", "gjj"]
    assert np.all(probs.max(axis=1) > 0.0)


def test_needs_two_labels():
    with pytest.raises(ValueError):
        NgramSvm().fit(_rows(["a", "b"]), ["x", "x"])
