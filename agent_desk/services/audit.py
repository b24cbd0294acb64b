"""Every staff action leaves an audit entry, written in the same transaction as the action;
managers read them back (``entries``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.normalize import mask_pii

from ..models import AuditEntry, User


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


def entry_view(entry: AuditEntry, actor: User | None) -> dict[str, Any]:
    """An audit entry as a manager reads it. The detail and target are masked again on the way
    out: entries written before a kind of number was masked (bank cards) hold it whole."""
    return {"id": entry.id, "created_at": entry.created_at.isoformat(), "action": entry.action,
            "actor_id": entry.actor_id, "actor": actor.username if actor else None,
            "actor_name": actor.display_name if actor else None, "actor_role": entry.actor_role,
            "target_type": entry.target_type, "target_id": mask_pii(entry.target_id),
            "detail": _mask(entry.detail or {}), "ip": entry.ip}


async def entries(session: AsyncSession, *, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  before: int | None = None, limit: int = 100) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first; ``(views, next_before)``. ``actor`` is a username (any case); ``action`` is
    exact, or a prefix when it ends with ``.`` (``staff.`` is every staff action); ``target`` is
    the target id exactly (a username, a tracking number, ``ip`` of a lock, ...)."""
    stmt = select(AuditEntry, User).outerjoin(User, User.id == AuditEntry.actor_id).order_by(AuditEntry.id.desc())
    if actor:
        stmt = stmt.where(func.lower(User.username) == actor.strip().lower())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                          else AuditEntry.action == action)
    if target:
        stmt = stmt.where(AuditEntry.target_id == target)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    views = [entry_view(e, u) for e, u in rows[:limit]]
    return views, (views[-1]["id"] if len(rows) > limit else None)
