"""政务服务“好差评”: one rating per case; bad ratings open a rectification follow-up."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import client_int
from channels.normalize import mask_pii

from ..models import RATING_LABELS, Case, CaseStatus, Citizen, Rating, User

RATE_PAYLOAD_RE = re.compile(r"^/rate(\{.*\})\s*$", re.DOTALL)
CASE_NO_RE = re.compile(r"^SL\d{8}-\d{4,6}$")
BAD_SCORES = (1, 2)
# A longer comment is refused, never cut: the citizen is asked to shorten it and nothing is stored.
MAX_COMMENT_CHARS = 500


@dataclass(frozen=True)
class RatingRequest:
    score: int
    comment: str = ""
    # The tracking number the rating card was for; None for cards sent before cards named their case.
    case: str | None = None


def parse_rate_payload(text: str) -> RatingRequest | None:
    """``/rate{"case": "SL20261204-0003", "score": 4, "comment": "..."}`` as sent by the rating card.

    Parse the citizen's text as typed (not the NFKC-normalised copy), so the comment keeps its
    full-width punctuation and is not cut at the classifier's length limit.
    """
    m = RATE_PAYLOAD_RE.match(text.strip())
    if not m:
        return None
    try:
        data = json.loads(m.group(1))
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        return None
    if not isinstance(data, dict):
        return None
    # The card sends an integer; 1e400 (infinity), true or 4.5 is no score.
    score = client_int(data.get("score"))
    if score is None or score not in RATING_LABELS:
        return None
    case = data.get("case")
    if case is not None and not (isinstance(case, str) and CASE_NO_RE.match(case)):
        return None
    comment = data.get("comment")
    return RatingRequest(score=score, comment=comment if isinstance(comment, str) else "", case=case)


def rating_display(request: RatingRequest) -> str:
    """How a rating message reads in transcripts: the desk's words, the citizen's comment as typed."""
    return f"评价：{RATING_LABELS[request.score]}" + (f"，{request.comment}" if request.comment else "")


class RatingError(Exception):
    """A rating action that cannot be done; ``code`` is the HTTP status the API returns.

    ``case`` is the tracking number the refusal is about, when there is one (the widget then
    disables that case's rating card, except for ``rating_too_long``, which leaves it open).
    ``event`` is the citizen-facing event name; ``extra`` more metadata for it."""

    def __init__(self, message: str, code: int = 409, *, case: str | None = None,
                 event: str = "rating_rejected", extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.case = case
        self.event = event
        self.extra = extra or {}


def _already_rated(case: Case) -> RatingError:
    return RatingError(f"您已对受理编号 {case.tracking_no} 的服务作出评价，感谢您的反馈。", case=case.tracking_no)


async def _case_to_rate(session: AsyncSession, *, citizen: Citizen, request: RatingRequest) -> Case:
    if request.case is not None:
        case = (await session.execute(select(Case).where(Case.tracking_no == request.case))).scalar_one_or_none()
        # Someone else's case reads exactly like a missing one.
        if case is None or case.citizen_id != citizen.id:
            raise RatingError(f"未找到受理编号 {request.case} 的服务，请使用该次服务结束时的评价卡片进行评价。")
        if case.status != CaseStatus.closed:
            raise RatingError(f"受理编号 {case.tracking_no} 的服务尚未结束，结束后即可评价。")
        return case
    # A card from before cards named their case: the latest closed case not rated yet.
    closed = select(Case).where(Case.citizen_id == citizen.id, Case.status == CaseStatus.closed)
    latest_first = (Case.closed_at.desc(), Case.id.desc())
    unrated = (await session.execute(
        closed.where(~select(Rating.id).where(Rating.case_id == Case.id).exists())
        .order_by(*latest_first).limit(1))).scalar_one_or_none()
    if unrated is not None:
        return unrated
    latest = (await session.execute(closed.order_by(*latest_first).limit(1))).scalar_one_or_none()
    if latest is None:
        raise RatingError("暂无可评价的服务。")
    raise _already_rated(latest)


async def rate_case(session: AsyncSession, *, citizen: Citizen, request: RatingRequest) -> tuple[Case, Rating]:
    """Rate the case the card named, after checking it is this citizen's, closed and not rated.

    Without a case (old cards): the citizen's latest closed case that has no rating yet.
    Raises RatingError otherwise. Caller commits.
    """
    case = await _case_to_rate(session, citizen=citizen, request=request)
    existing = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalar_one_or_none()
    if existing is not None:
        raise _already_rated(case)
    if len(request.comment) > MAX_COMMENT_CHARS:
        raise RatingError(
            f"您的意见共 {len(request.comment)} 字，超过了最多{MAX_COMMENT_CHARS}字的限制，本次评价尚未提交。"
            f"请精简后重新提交（受理编号 {case.tracking_no}）。",
            code=400, case=case.tracking_no, event="rating_too_long", extra={"max_chars": MAX_COMMENT_CHARS})
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
        raise _already_rated(case) from exc
    return case, rating


def rating_view(rating: Rating, case: Case) -> dict[str, object]:
    """A rating as staff see it: ID, bank card and mobile numbers in the comment and note masked."""
    return {"id": rating.id, "case_id": case.id, "tracking_no": case.tracking_no, "score": rating.score,
            "label": rating.label, "comment": mask_pii(rating.comment), "agent_name": rating.agent_name,
            "rectification": rating.rectification, "rectification_note": mask_pii(rating.rectification_note),
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
    # Conditional: of two managers recording at once, one wins and the other is told, so no
    # note is silently overwritten.
    result = await session.execute(
        update(Rating).where(Rating.id == rating_id, Rating.rectification == "pending")
        .values(rectification="done", rectification_note=note[:2000], rectified_by=manager.id,
                rectified_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise RatingError("该评价已由其他管理人员记录整改，请刷新后查看")
    await session.refresh(rating)
    return rating
