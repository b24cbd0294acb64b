"""Safe-mode crypto against WeChat's published sample vector, plus tampering cases."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from channels.wechat_crypto import (
    AppIdError,
    CryptoError,
    DecryptError,
    SignatureError,
    WeChatCrypto,
    sha1_signature,
    signature_matches,
)

VECTOR = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "wechat_sample_vector.json").read_text())


@pytest.fixture
def crypto() -> WeChatCrypto:
    return WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], VECTOR["appid"])


def test_sample_signature_matches(crypto: WeChatCrypto) -> None:
    assert crypto.sign(VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypt"]) == VECTOR["msg_signature"]
    crypto.verify(VECTOR["msg_signature"], VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypt"])


def test_sample_decrypts_to_text_message(crypto: WeChatCrypto) -> None:
    xml = crypto.decrypt(VECTOR["encrypt"])
    assert "<MsgType><![CDATA[text]]></MsgType>" in xml
    assert f"<Content><![CDATA[{VECTOR['expect_content']}]]></Content>" in xml
    assert VECTOR["expect_from_user"] in xml
    assert VECTOR["expect_msg_id"] in xml


def test_roundtrip_chinese(crypto: WeChatCrypto) -> None:
    msg = json.dumps({"MsgType": "text", "Content": "社保卡丢了怎么补办？"}, ensure_ascii=False)
    enc = crypto.encrypt(msg)
    assert crypto.decrypt(enc) == msg
    # Every length lands on a 32-byte boundary after padding.
    for n in range(0, 70):
        assert crypto.decrypt(crypto.encrypt("x" * n)) == "x" * n


def test_wrong_signature_rejected(crypto: WeChatCrypto) -> None:
    bad = VECTOR["msg_signature"][:-1] + ("0" if VECTOR["msg_signature"][-1] != "0" else "1")
    with pytest.raises(SignatureError):
        crypto.verify(bad, VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypt"])
    with pytest.raises(SignatureError):
        crypto.verify(None, VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypt"])
    # The plain-mode signature (without Encrypt) is not a valid msg_signature.
    plain_sig = sha1_signature(VECTOR["token"], VECTOR["timestamp"], VECTOR["nonce"])
    with pytest.raises(SignatureError):
        crypto.verify(plain_sig, VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypt"])


def test_tampered_ciphertext_rejected(crypto: WeChatCrypto) -> None:
    raw = bytearray(base64.b64decode(VECTOR["encrypt"]))
    raw[-17] ^= 0x01  # CBC: flips the last plaintext byte, i.e. the padding length
    with pytest.raises(DecryptError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())
    raw = bytearray(base64.b64decode(VECTOR["encrypt"]))
    raw[40] ^= 0x80  # garbles the message body: whatever is caught, it never decrypts cleanly
    with pytest.raises(CryptoError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())
    with pytest.raises(DecryptError):
        crypto.decrypt("not base64!!")
    with pytest.raises(DecryptError):
        crypto.decrypt(base64.b64encode(b"short").decode())


def test_wrong_appid_rejected() -> None:
    other = WeChatCrypto(VECTOR["token"], VECTOR["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(AppIdError):
        other.decrypt(VECTOR["encrypt"])


def test_plain_signature_is_sorted_sha1() -> None:
    import hashlib

    parts = ["token", "1409735669", "1320562132"]
    assert sha1_signature(*parts) == hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()
    assert signature_matches(sha1_signature(*parts), *parts)
    assert not signature_matches("", *parts)
    assert not signature_matches("ä" * 40, *parts)


def test_bad_key_rejected() -> None:
    with pytest.raises(ValueError):
        WeChatCrypto("t", "short", "wx")
