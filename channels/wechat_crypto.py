"""WeChat push signatures and safe-mode (安全模式) message encryption. Pure functions, no I/O.

Signature: SHA-1 hex of the lexicographically sorted concatenation of the parts
(token, timestamp, nonce[, Encrypt]). Safe mode: AES-256-CBC, key = base64 of the
43-character EncodingAESKey plus "=", IV = first 16 bytes of the key, PKCS#7 padding
to 32-byte blocks (not AES's 16), plaintext = 16 random bytes + 4-byte big-endian
length + message + appid.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["CryptoError", "SignatureError", "DecryptError", "AppIdError", "WeChatCrypto", "sha1_signature",
           "signature_matches"]

BLOCK = 32  # WeChat pads to 32 bytes, a multiple of AES's 16-byte block


class CryptoError(ValueError):
    """A push that cannot be trusted; the webhook answers 4xx and drops it."""


class SignatureError(CryptoError):
    pass


class DecryptError(CryptoError):
    pass


class AppIdError(CryptoError):
    pass


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(given: str | None, *parts: str) -> bool:
    """Constant-time comparison of a received signature with the expected one."""
    if not given:
        return False
    expected = sha1_signature(*parts)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii", "replace"))


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise DecryptError("empty plaintext")
    n = data[-1]
    if n < 1 or n > BLOCK or len(data) < n or data[-n:] != bytes([n]) * n:
        raise DecryptError("bad padding")
    return data[:-n]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not valid base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


class WeChatCrypto:
    """Safe-mode codec for one mini-program (token, EncodingAESKey, appid)."""

    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        self.token = token
        self.key = decode_aes_key(encoding_aes_key)
        self.appid = appid

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str) -> None:
        if not signature_matches(msg_signature, self.token, timestamp, nonce, encrypt):
            raise SignatureError("msg_signature mismatch")

    def encrypt(self, message: str, *, random16: bytes | None = None) -> str:
        body = message.encode("utf-8")
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("random prefix must be 16 bytes")
        plain = _pad(prefix + struct.pack(">I", len(body)) + body + self.appid.encode("utf-8"))
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        """Decrypt an ``Encrypt`` field; raises DecryptError / AppIdError."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("Encrypt is not valid base64") from exc
        if not raw or len(raw) % BLOCK:
            raise DecryptError("ciphertext length is not a multiple of 32")
        dec = self._cipher().decryptor()
        plain = _unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptError("declared length exceeds plaintext")
        message, appid = plain[20:20 + length], plain[20 + length:]
        if not hmac.compare_digest(appid, self.appid.encode("utf-8")):
            raise AppIdError("appid mismatch")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptError("message is not UTF-8") from exc
