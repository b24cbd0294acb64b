"""政务服务“好差评”: one rating per case; bad ratings open a rectification follow-up."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import RATING_LABELS, Case, CaseStatus, Citizen, Rating, User

RATE_PAYLOAD_RE = re.compile(r"^/rate(\{.*\})\s*$", re.DOTALL)
BAD_SCORES = (1, 2)


@dataclass(frozen=True)
class RatingRequest:
    score: int
    comment: str = ""


def parse_rate_payload(text: str) -> RatingRequest | None:
    """``/rate{"score": 4, "comment": "..."}`` as sent by the rating card buttons."""
    m = RATE_PAYLOAD_RE.match(text.strip())
    if not m:
        return None
    try:
        data = json.loads(m.group(1))
        score = int(data.get("score"))
    except (ValueError, TypeError, AttributeError):
        return None
    if score not in RATING_LABELS:
        return None
    return RatingRequest(score=score, comment=str(data.get("comment") or "")[:500])


class RatingError(Exception):
    """A rating action that cannot be done; ``code`` is the HTTP status the API returns."""

    def __init__(self, message: str, code: int = 409) -> None:
        super().__init__(message)
        self.code = code


async def rate_latest_case(session: AsyncSession, *, citizen: Citizen, request: RatingRequest) -> tuple[Case, Rating]:
    """Rate the citizen's most recent closed case. Raises RatingError when there is none or it is rated."""
    case = (await session.execute(
        select(Case).where(Case.citizen_id == citizen.id, Case.status == CaseStatus.closed)
        .order_by(Case.closed_at.desc(), Case.id.desc()).limit(1)
    )).scalar_one_or_none()
    if case is None:
        raise RatingError("暂无可评价的服务。")
    existing = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalar_one_or_none()
    if existing is not None:
        raise RatingError(f"您已对受理编号 {case.tracking_no} 的服务作出评价，感谢您的反馈。")
    agent = await session.get(User, case.agent_id) if case.agent_id else None
    rating = Rating(
        case_id=case.id, score=request.score, label=RATING_LABELS[request.score], comment=request.comment,
        agent_id=case.agent_id, agent_name=agent.display_name if agent else "",
        rectification="pending" if request.score in BAD_SCORES else "none",
    )
    session.add(rating)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent duplicate delivery of the same rating
        raise RatingError(f"您已对受理编号 {case.tracking_no} 的服务作出评价，感谢您的反馈。") from exc
    return case, rating


def rating_view(rating: Rating, case: Case) -> dict[str, object]:
    return {"id": rating.id, "case_id": case.id, "tracking_no": case.tracking_no, "score": rating.score,
            "label": rating.label, "comment": rating.comment, "agent_name": rating.agent_name,
            "rectification": rating.rectification, "rectification_note": rating.rectification_note,
            "rectified_at": rating.rectified_at.isoformat() if rating.rectified_at else None,
            "created_at": rating.created_at.isoformat()}


async def complete_rectification(session: AsyncSession, *, rating_id: int, manager: User, note: str) -> Rating:
    """Record what was done about a bad rating (整改反馈). Caller audits and commits."""
    from ..models import utcnow

    rating = await session.get(Rating, rating_id)
    if rating is None:
        raise RatingError("评价不存在", 404)
    if rating.rectification != "pending":
        raise RatingError("该评价无需整改或已整改完成")
    note = note.strip()
    if not note:
        raise RatingError("请填写整改情况说明", 400)
    rating.rectification = "done"
    rating.rectification_note = note[:2000]
    rating.rectified_by = manager.id
    rating.rectified_at = utcnow()
    return rating
