import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from channels.normalize import mask_pii, normalize_text

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ANY_TEXT = st.text(max_size=200)
MIXED = st.text(
    alphabet=st.one_of(CJK, st.characters(), st.sampled_from(list("ＡＢＣ１２３，。！？　 \t\n😀😭👍🏻\u200b\u200d\x00\x7f"))),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_never_crashes_and_flags_are_consistent(raw):
    result = normalize_text(raw)
    assert isinstance(result.text, str)
    assert result.original_length == len(raw)
    assert result.is_empty == (result.text == "")
    assert len(result.text) <= 500


@settings(max_examples=300, deadline=None)
@given(MIXED)
def test_idempotent(raw):
    once = normalize_text(raw).text
    assert normalize_text(once).text == once


@settings(max_examples=300, deadline=None)
@given(MIXED)
def test_no_control_characters_or_stray_whitespace(raw):
    text = normalize_text(raw).text
    for ch in text:
        assert unicodedata.category(ch) not in ("Cc", "Cs", "Co"), repr(ch)
        assert ch == "\u200d" or unicodedata.category(ch) != "Cf", repr(ch)
    assert text == text.strip()
    assert "  " not in text and "\n" not in text and "\t" not in text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E), min_size=1, max_size=40))
def test_full_width_ascii_becomes_half_width(raw):
    text = normalize_text(raw).text
    assert all(ord(ch) < 0x80 for ch in text), text


def test_examples():
    assert normalize_text("ＳＬ２０２６１２０３－０００１").text == "SL20261203-0001"
    assert normalize_text("社保卡丟了怎麼辦？").text == "社保卡丢了怎么办?"
    assert normalize_text("護照辦理").text == "护照办理"
    assert normalize_text("醫療保險異地就醫備案").text == "医疗保险异地就医备案"
    assert normalize_text("  社保 卡\t\t补办\u200b ").text == "社保卡补办"
    assert normalize_text("社保卡😭丢了").text == "社保卡 😭 丢了"
    assert normalize_text("怎么apply  护照").text == "怎么apply 护照"


def test_empty_and_too_long():
    assert normalize_text("").is_empty
    assert normalize_text(" \u3000\x00\n").is_empty
    assert normalize_text(None).is_empty
    long = normalize_text("社" * 600)
    assert long.too_long and long.text == "社" * 500 and long.original_length == 600
    assert not normalize_text("社" * 500).too_long
    assert normalize_text("社保" * 20, max_len=10).text == "社保" * 5


def test_mask_pii():
    assert mask_pii("身份证110101199003071234") == "身份证110***********1234"
    assert mask_pii("尾号X的11010119900307123X号") == "尾号X的110***********123X号"
    assert mask_pii("电话13812345678谢谢") == "电话138****5678谢谢"
    assert mask_pii("１３８１２３４５６７８") == "１３８****５６７８"
    both = mask_pii("我叫张三，身份证110101199003071234，手机13812345678")
    assert "110101199003071234" not in both and "13812345678" not in both
    # neither a tracking number nor a longer digit run is a phone number
    assert mask_pii("SL20261203-0001") == "SL20261203-0001"
    assert mask_pii("订单号123456789012345") == "订单号123456789012345"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.text(alphabet=CJK, max_size=5))
def test_mask_pii_never_leaks_a_phone(phone, prefix):
    masked = mask_pii(prefix + phone + prefix)
    assert phone not in masked
    assert phone[:3] + "****" + phone[-4:] in masked


@pytest.mark.parametrize("written, masked", [
    ("电话+8613900001111帮我查社保", "电话139****1111帮我查社保"),
    ("电话 139 0000 2222 社保卡", "电话 139****2222 社保卡"),
    ("电话139-0000-3333", "电话139****3333"),
    ("86 13900004444", "139****4444"),
    ("身份证 11010119900307 5678", "身份证 110************5678"),
])
def test_mask_pii_handles_how_people_write_numbers(written, masked):
    assert mask_pii(written) == masked


@pytest.mark.parametrize("written, masked", [
    ("银行卡 6222021234567890123", "银行卡 6222***********0123"),
    ("卡号6222 0212 3456 7890 123，请退款", "卡号6222***********0123，请退款"),
    ("卡号 6217-0012-3456-7890", "卡号 6217********7890"),
    ("卡号4367421234567890", "卡号4367********7890"),
    ("６２２２０２１２３４５６７８９０", "６２２２********７８９０"),
    ("工行卡6222021234567890123和手机13812345678", "工行卡6222***********0123和手机138****5678"),
])
def test_mask_pii_masks_bank_card_numbers_keeping_first_and_last_four(written, masked):
    assert mask_pii(written) == masked


@pytest.mark.parametrize("text", [
    "受理编号SL20261205-0002", "sl 20261205 0002", "2026-12-05 14:30", "20261205",
    "金额12345678.90元", "合计 1,234,567.89 元", "时间戳20261205143015123",
    "订单号123456789012345", "0.12345678901234567", "12345678901234567890123",
])
def test_mask_pii_leaves_tracking_numbers_dates_and_amounts(text):
    assert mask_pii(text) == text


def test_an_id_number_is_masked_its_own_way_not_as_a_card():
    assert mask_pii("110101199003071234") == "110***********1234"
    assert mask_pii("身份证 11010119900307 5678") == "身份证 110************5678"
