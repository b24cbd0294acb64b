"""Ratings for managers: the 好差评 list and the rectification follow-up of bad ratings."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from channels.normalize import mask_pii

from ..models import Case, Rating, User
from ..services import audit
from ..services.ratings import BAD_SCORES, RatingError, complete_rectification, rating_view
from ..services.reports import RECTIFICATION_LABELS
from .common import NOTE_MAX_CHARS, client_ip, current_user, desk, json_body, parse_count, parse_id, str_field

bp = Blueprint("ratings", url_prefix="/api/ratings")
STATES = ("none", "pending", "done", "bad")  # bad: every 不满意/非常不满意, pending or done
Rectifier = aliased(User)


def follow_up_view(rating: Rating, case: Case, rectifier: User | None) -> dict[str, object]:
    """A rating for the manager's screen: the citizen's comment with ID and mobile numbers masked."""
    view = rating_view(rating, case)
    view.update(comment=mask_pii(rating.comment),
                rectification_label=RECTIFICATION_LABELS.get(rating.rectification, rating.rectification),
                rectified_by_name=rectifier.display_name if rectifier else None,
                case_closed_at=case.closed_at.isoformat() if case.closed_at else None)
    return view


@bp.get("/")
async def list_ratings(request: Request):  # type: ignore[no-untyped-def]
    """Newest first; ``before`` (a rating id) pages on; ``rectification`` filters the follow-up state."""
    manager = await current_user(request, "manager")
    state = request.args.get("rectification")
    limit = min(max(parse_count(request.args.get("limit", "500"), "limit"), 1), 500)
    before = parse_count(request.args.get("before"), "before") if request.args.get("before") else None
    stmt = (select(Rating, Case, Rectifier).join(Case, Case.id == Rating.case_id)
            .outerjoin(Rectifier, Rectifier.id == Rating.rectified_by).order_by(Rating.id.desc()))
    if state:
        if state not in STATES:
            raise BadRequest("rectification 取值应为 none / pending / done / bad")
        stmt = stmt.where(Rating.score.in_(BAD_SCORES)) if state == "bad" else stmt.where(
            Rating.rectification == state)
    if before is not None:
        stmt = stmt.where(Rating.id < before)
    async with desk(request).sessions() as session:
        rows = (await session.execute(stmt.limit(limit + 1))).all()
        await audit.record(session, actor_id=manager.id, actor_role=manager.role.value, action="rating.list",
                           target_type="rating", target_id=state or "all", detail={"before": before},
                           ip=client_ip(request))
        await session.commit()
    more = len(rows) > limit
    views = [follow_up_view(r, c, who) for r, c, who in rows[:limit]]
    return json({"ratings": views, "next_before": views[-1]["id"] if more else None})


@bp.post("/<rating_id>/rectification")
async def rectify(request: Request, rating_id: str):  # type: ignore[no-untyped-def]
    manager = await current_user(request, "manager")
    note = str_field(json_body(request), "note", max_len=NOTE_MAX_CHARS)
    async with desk(request).sessions() as session:
        try:
            rating = await complete_rectification(session, rating_id=parse_id(rating_id, "评价"), manager=manager,
                                                  note=note)
        except RatingError as exc:
            return json({"error": str(exc)}, status=exc.code)
        case = await session.get(Case, rating.case_id)
        assert case is not None
        await audit.record(session, actor_id=manager.id, actor_role=manager.role.value, action="rating.rectify",
                           target_type="case", target_id=case.tracking_no, detail={"rating_id": rating.id},
                           ip=client_ip(request))
        await session.commit()
        return json({"rating": follow_up_view(rating, case, manager)})
