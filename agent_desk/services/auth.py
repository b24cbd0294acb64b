"""Staff authentication: argon2 password hashes and signed, expiring, revocable session tokens.

A token is signed (itsdangerous) and carries the user id, role and a random token id
(``jti``). Signing alone cannot end a session early, so logout records the ``jti`` in Redis
until the token would have expired anyway, and "log out everywhere" records a per-user
time before which every token of that user is void. Every authenticated request checks both
(``TokenSigner.check``), one Redis round trip.
"""
from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Role, User

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..redis_keys import RedisKeys

_hasher = PasswordHasher()
# Verifying against a dummy hash keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


DISABLED = "account_disabled"


async def authenticate(session: AsyncSession, *, username: str, password: str) -> tuple[User | None, str]:
    """``(user, "")`` for a right password of an active account, else ``(None, why)``: ``why`` is
    ``DISABLED`` for the right password of a disabled account (for the audit log only; the
    caller answers every failure alike), "" otherwise."""
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None, ""
    if user is None:
        return None, ""
    if not user.active:
        return None, DISABLED
    return user, ""


# Session keys live here rather than in redis_keys.py so that everything about staff
# sessions is in one module; they share the desk's prefix.
def revoked_key(keys: RedisKeys, jti: str) -> str:
    """Set (until the token's expiry) when the session with this token id was ended."""
    return f"{keys.prefix}:auth:revoked:{jti}"


def not_before_key(keys: RedisKeys, user_id: int) -> str:
    """Unix time before which every token of this user is void ("log out everywhere")."""
    return f"{keys.prefix}:auth:not_before:{user_id}"


def sockets_key(keys: RedisKeys, user_id: int) -> str:
    """Hash of this user's open /agent sockets: socket id -> token id (services/staff_sockets.py)."""
    return f"{keys.prefix}:auth:sockets:{user_id}"


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="desk-staff-session")
        self.ttl_s = ttl_s

    def issue(self, user: User) -> str:
        # ``iat`` with milliseconds: itsdangerous keeps whole seconds, too coarse to tell a
        # login just after "log out everywhere" from one just before it.
        return self._s.dumps({"uid": user.id, "role": user.role.value, "jti": secrets.token_urlsafe(16),
                              "iat": round(time.time(), 3)})

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's claims when its signature and age are good.

        This alone does not know about logouts: request handling uses ``check``.
        """
        try:
            data = self._s.loads(token, max_age=self.ttl_s)
        except (BadSignature, SignatureExpired):
            return None
        # Tokens issued before token ids existed cannot be revoked, so they are not accepted.
        if not (isinstance(data, dict) and isinstance(data.get("jti"), str) and isinstance(data.get("uid"), int)
                and isinstance(data.get("iat"), int | float)):
            return None
        return data

    async def check(self, redis: Redis, keys: RedisKeys, token: str) -> dict[str, Any] | None:
        """``verify`` plus: the session was not ended by a logout."""
        claims = self.verify(token)
        if claims is None or await self.is_revoked(redis, keys, claims):
            return None
        return claims

    async def is_revoked(self, redis: Redis, keys: RedisKeys, claims: dict[str, Any]) -> bool:
        revoked, not_before = await redis.mget(revoked_key(keys, claims["jti"]), not_before_key(keys, claims["uid"]))
        return revoked is not None or (not_before is not None and claims["iat"] <= float(not_before))

    async def revoke(self, redis: Redis, keys: RedisKeys, claims: dict[str, Any]) -> None:
        """End this one session; the mark lasts as long as the token could still be used."""
        remaining = int(claims["iat"] + self.ttl_s - time.time()) + 1
        if remaining > 0:
            await redis.set(revoked_key(keys, claims["jti"]), "1", ex=remaining)

    async def revoke_all(self, redis: Redis, keys: RedisKeys, user_id: int) -> None:
        """End every session of a user issued up to now (kept as long as a token lives)."""
        await redis.set(not_before_key(keys, user_id), f"{time.time():.3f}", ex=self.ttl_s + 1)


async def create_user(session: AsyncSession, *, username: str, display_name: str, role: Role, password: str) -> User:
    user = User(username=username, display_name=display_name, role=role, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user
