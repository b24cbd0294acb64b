"""Ratings for managers: the 好差评 list and the rectification follow-up of bad ratings."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest
from sqlalchemy import select

from ..models import Case, Rating
from ..services import audit
from ..services.ratings import RatingError, complete_rectification, rating_view
from .common import client_ip, current_user, desk, json_body, parse_id, str_field

bp = Blueprint("ratings", url_prefix="/api/ratings")


@bp.get("/")
async def list_ratings(request: Request):  # type: ignore[no-untyped-def]
    await current_user(request, "manager")
    state = request.args.get("rectification")
    stmt = select(Rating, Case).join(Case, Case.id == Rating.case_id).order_by(Rating.created_at.desc()).limit(500)
    if state:
        if state not in ("none", "pending", "done"):
            raise BadRequest("rectification 取值应为 none / pending / done")
        stmt = stmt.where(Rating.rectification == state)
    async with desk(request).sessions() as session:
        rows = (await session.execute(stmt)).all()
    return json({"ratings": [rating_view(r, c) for r, c in rows]})


@bp.post("/<rating_id>/rectification")
async def rectify(request: Request, rating_id: str):  # type: ignore[no-untyped-def]
    manager = await current_user(request, "manager")
    note = str_field(json_body(request), "note")
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
        return json({"rating": rating_view(rating, case)})
