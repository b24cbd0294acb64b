"""Every staff action leaves an audit entry, written in the same transaction as the action."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from channels.normalize import mask_pii

from ..models import AuditEntry


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


async def record(session: AsyncSession, *, actor_id: int | None, actor_role: str, action: str,
                 target_type: str = "", target_id: str | int = "", detail: dict[str, Any] | None = None,
                 ip: str = "") -> None:
    session.add(AuditEntry(actor_id=actor_id, actor_role=actor_role, action=action, target_type=target_type,
                           target_id=str(target_id), detail=_mask(detail or {}), ip=ip))
