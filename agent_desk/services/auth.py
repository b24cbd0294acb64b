"""Staff authentication: argon2 password hashes and signed, expiring session tokens."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Role, User

_hasher = PasswordHasher()
# Verifying against a dummy hash keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def authenticate(session: AsyncSession, *, username: str, password: str) -> User | None:
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    return user


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="desk-staff-session")
        self.ttl_s = ttl_s

    def issue(self, user: User) -> str:
        return self._s.dumps({"uid": user.id, "role": user.role.value})

    def verify(self, token: str) -> dict[str, object] | None:
        try:
            data = self._s.loads(token, max_age=self.ttl_s)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) else None


async def create_user(session: AsyncSession, *, username: str, display_name: str, role: Role, password: str) -> User:
    user = User(username=username, display_name=display_name, role=role, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user
