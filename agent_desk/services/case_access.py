"""Which cases a staff member may read.

Managers read every case. An agent reads the cases waiting in the queue (to decide which to
accept, they need the bot part of the conversation) and the cases they serve or served; not a
colleague's conversations. Reading is audited in any case (``case.view``); this limits what
there is to read, which a citizen's personal data asks for. A refused read is audited too
(``case.view_denied``, ``refused``).
"""
from __future__ import annotations

from typing import TypeVar

from sanic.exceptions import Forbidden
from sqlalchemy import Select, or_
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Case, CaseStatus, Role, User
from . import audit

NOT_YOURS = "该工单不在您的处理范围内"
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]  # any Select over cases


def may_read(user: User, case: Case) -> bool:
    return user.role == Role.manager or case.status == CaseStatus.queued or case.agent_id == user.id


def readable(stmt: S, user: User) -> S:
    """``stmt`` (selecting cases) narrowed to the cases ``user`` may read."""
    if user.role == Role.manager:
        return stmt
    return stmt.where(or_(Case.status == CaseStatus.queued, Case.agent_id == user.id))


async def refused(session: AsyncSession, user: User, case: Case, *, read: str, ip: str) -> Forbidden:
    """Audit a refused read (``case.view_denied``, the tracking number; ``read`` says what was
    asked for: ``case``, ``messages``, ``channel_info``), commit it, and return the 403 to raise."""
    await audit.record(session, actor_id=user.id, actor_role=user.role.value, action="case.view_denied",
                       target_type="case", target_id=case.tracking_no,
                       detail={"read": read, "status": case.status.value}, ip=ip)
    await session.commit()
    return Forbidden(NOT_YOURS)
