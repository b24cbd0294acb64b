"""Who a web citizen is, across reloads and devices.

A citizen gets a random external id (``cz:<hex>``) and a token signed with the desk secret
that carries it; the widget keeps the token in localStorage and presents it on every
``session_request``. The ``cz:`` prefix contains a character the plain Rasa ``session_id``
pattern does not allow, so a token identity can never be claimed by guessing a session id.

A second device gets the same identity with a short one-time transfer code shown on the
first device, or by verifying a phone number (the SMS is faked in dev/test mode: the code
is written to the log next to the masked number; outside dev there is no SMS gateway yet,
so phone verification is refused rather than silently pretending).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer

from channels.normalize import mask_pii

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..redis_keys import RedisKeys

log = logging.getLogger("desk.citizen_identity")

ID_PREFIX = "cz:"
TOKEN_MAX_AGE_S = 400 * 24 * 3600
TRANSFER_TTL_S = 300
PHONE_CODE_TTL_S = 300
PHONE_CODE_MAX_TRIES = 5
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits only: \d would also take ４ or ٤
_ID_RE = re.compile(r"^cz:[0-9a-f]{32}$")


class IdentityError(Exception):
    """Shown to the citizen as is."""


class CitizenIdentity:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="desk.citizen-identity")

    @staticmethod
    def new_external_id() -> str:
        return ID_PREFIX + secrets.token_hex(16)

    def issue(self, external_id: str) -> str:
        return self._serializer.dumps({"cid": external_id})

    def verify(self, token: object) -> str | None:
        if not isinstance(token, str) or not token or len(token) > 512:
            return None
        try:
            data = self._serializer.loads(token, max_age=TOKEN_MAX_AGE_S)
        except BadSignature:
            return None
        cid = data.get("cid") if isinstance(data, dict) else None
        return cid if isinstance(cid, str) and _ID_RE.match(cid) else None

    def phone_digest(self, phone: str) -> str:
        return hmac.new(self._secret, phone.encode(), hashlib.sha256).hexdigest()[:40]


def _key(keys: RedisKeys, *parts: str) -> str:
    return ":".join((keys.prefix, "citizen", *parts))


async def create_transfer_code(redis: Redis, keys: RedisKeys, *, external_id: str) -> str:
    """A 6-digit one-time code that lets a second device take this identity for 5 minutes."""
    for _ in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        if await redis.set(_key(keys, "xfer", code), external_id, ex=TRANSFER_TTL_S, nx=True):
            return code
    raise IdentityError("暂时无法生成验证码，请稍后再试。")


def clean_code(code: object) -> str | None:
    """A 6-digit code as typed (full-width digits too), or None."""
    text = unicodedata.normalize("NFKC", code).strip() if isinstance(code, str) else ""
    return text if re.fullmatch(r"[0-9]{6}", text) else None


async def redeem_transfer_code(redis: Redis, keys: RedisKeys, *, code: object) -> str:
    digits = clean_code(code)
    if digits is None:
        raise IdentityError("请输入6位数字验证码。")
    external_id = await redis.getdel(_key(keys, "xfer", digits))
    if not external_id:
        raise IdentityError("验证码无效或已过期，请在原设备上重新获取。")
    return str(external_id)


def clean_phone(phone: object) -> str:
    """An 11-digit mainland mobile number as typed: full-width digits and plus sign (NFKC, as
    everywhere else citizens type), spaces, dashes and a +86 prefix are accepted."""
    text = unicodedata.normalize("NFKC", phone) if isinstance(phone, str) else ""
    digits = re.sub(r"[\s\-\u2010-\u2015\u2212]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not PHONE_RE.fullmatch(digits):
        raise IdentityError("请输入正确的11位手机号码。")
    return digits


async def request_phone_code(redis: Redis, keys: RedisKeys, identity: CitizenIdentity, *, phone: object,
                             dev_mode: bool) -> str:
    """Send (in dev: log) a verification code; returns the masked number for the UI."""
    number = clean_phone(phone)
    if not dev_mode:
        raise IdentityError("短信验证暂未开通，请使用“换设备验证码”同步记录。")
    code = f"{secrets.randbelow(10**6):06d}"
    digest = identity.phone_digest(number)
    pipe = redis.pipeline(transaction=True)
    pipe.set(_key(keys, "phone", "code", digest), code, ex=PHONE_CODE_TTL_S)
    pipe.delete(_key(keys, "phone", "tries", digest))
    await pipe.execute()
    masked = mask_pii(number)
    # Dev mode only: there is no SMS gateway, so the code goes to the log. Never the full number.
    log.warning("dev SMS verification code", extra={"phone": masked, "code": code})
    return masked


async def verify_phone(redis: Redis, keys: RedisKeys, identity: CitizenIdentity, *, phone: object,
                       code: object, current_external_id: str) -> str:
    """Check the code; the phone's identity is the one bound first (else this device's)."""
    number = clean_phone(phone)
    digest = identity.phone_digest(number)
    code_key, tries_key = _key(keys, "phone", "code", digest), _key(keys, "phone", "tries", digest)
    expected = await redis.get(code_key)
    if not expected:
        raise IdentityError("验证码已过期，请重新获取。")
    digits = clean_code(code)
    if digits is None or not hmac.compare_digest(str(expected), digits):
        tries = await redis.incr(tries_key)
        await redis.expire(tries_key, PHONE_CODE_TTL_S)
        if tries >= PHONE_CODE_MAX_TRIES:
            await redis.delete(code_key)
            raise IdentityError("验证码错误次数过多，请重新获取。")
        raise IdentityError("验证码不正确，请重新输入。")
    await redis.delete(code_key, tries_key)
    bind_key = _key(keys, "phone", "bind", digest)
    await redis.set(bind_key, current_external_id, nx=True)
    return str(await redis.get(bind_key))
