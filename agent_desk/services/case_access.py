"""Which cases a staff member may read.

Managers read every case. An agent reads the cases waiting in the queue (to decide which to
accept, they need the bot part of the conversation) and the cases they serve or served; not a
colleague's conversations. Reading is audited in any case (``case.view``); this limits what
there is to read, which a citizen's personal data asks for.
"""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, or_

from ..models import Case, CaseStatus, Role, User

NOT_YOURS = "该工单不在您的处理范围内"
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]  # any Select over cases


def may_read(user: User, case: Case) -> bool:
    return user.role == Role.manager or case.status == CaseStatus.queued or case.agent_id == user.id


def readable(stmt: S, user: User) -> S:
    """``stmt`` (selecting cases) narrowed to the cases ``user`` may read."""
    if user.role == Role.manager:
        return stmt
    return stmt.where(or_(Case.status == CaseStatus.queued, Case.agent_id == user.id))
