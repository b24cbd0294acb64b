"""好差评 lands on the case the citizen rated: the rating card names its case, and the desk checks
that the case is this citizen's, closed and not yet rated. Real PostgreSQL and Redis, no Rasa."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from agent_desk.models import Case, Message, Rating, Role
from agent_desk.services.auth import create_user
from agent_desk.services.cases import accept_case, close_case
from agent_desk.services.ratings import parse_rate_payload
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage, OutboundMessage
from tests.agent_desk import capture
from tests.agent_desk.staff import make_agent


@pytest.fixture
def outbox() -> capture.Outbox:
    return capture.install()


def say(cid: str, text: str) -> InboundMessage:
    return InboundMessage(channel=capture.CHANNEL, external_user_id=cid, text=text)  # type: ignore[arg-type]


async def served_case(ctx, outbox: capture.Outbox, cid: str, agent) -> tuple[Case, OutboundMessage]:  # type: ignore[no-untyped-def]
    """One handoff → accept → close; returns the case and the rating card the citizen got."""
    res = await handle_inbound(ctx, say(cid, "/human_handoff"))
    async with ctx.sessions() as session:
        case = (await session.execute(select(Case).where(Case.conversation_id == res.conversation_id))).scalar_one()
    await accept_case(ctx, case_id=case.id, agent=agent)
    await close_case(ctx, case_id=case.id, agent=agent)
    card = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_request"
                                 and o.metadata.get("case") == case.tracking_no)
    return case, card


async def ratings_of(ctx, *cases: Case) -> dict[str, Rating | None]:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        rows = (await session.execute(select(Rating).where(Rating.case_id.in_([c.id for c in cases])))).scalars()
        by_case = {r.case_id: r for r in rows}
    return {c.tracking_no: by_case.get(c.id) for c in cases}


def rated_for(case: Case) -> Callable[[OutboundMessage], bool]:
    return lambda o: o.metadata.get("event") == "rated" and o.metadata.get("case") == case.tracking_no


def button(card: OutboundMessage, title: str) -> str:
    return next(b.payload for b in card.buttons if b.title == title)


async def test_rating_from_an_older_card_lands_on_that_case(desk_ctx, outbox) -> None:
    cid = f"rate-{uuid.uuid4().hex[:10]}"
    agent = await make_agent(desk_ctx, "丁")
    case_a, card_a = await served_case(desk_ctx, outbox, cid, agent)
    case_b, card_b = await served_case(desk_ctx, outbox, cid, agent)
    # Every button of a card names its case.
    for card, case in ((card_a, case_a), (card_b, case_b)):
        assert all(json.loads(b.payload[len("/rate"):])["case"] == case.tracking_no for b in card.buttons)

    await handle_inbound(desk_ctx, say(cid, button(card_a, "非常不满意")))
    rated = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    assert rated.metadata["case"] == case_a.tracking_no and case_a.tracking_no in rated.text
    got = await ratings_of(desk_ctx, case_a, case_b)
    assert got[case_a.tracking_no] is not None and got[case_a.tracking_no].score == 1
    assert got[case_b.tracking_no] is None

    # B's own card still rates B; rating A again is refused and names A.
    await handle_inbound(desk_ctx, say(cid, button(card_b, "满意")))
    await outbox.wait_for(cid, rated_for(case_b))
    await handle_inbound(desk_ctx, say(cid, button(card_a, "非常满意")))
    again = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_rejected")
    assert case_a.tracking_no in again.text and again.metadata.get("case") == case_a.tracking_no
    got = await ratings_of(desk_ctx, case_a, case_b)
    assert (got[case_a.tracking_no].score, got[case_b.tracking_no].score) == (1, 4)  # type: ignore[union-attr]


async def test_old_payload_without_case_rates_the_latest_unrated_closed_case(desk_ctx, outbox) -> None:
    cid = f"rate-{uuid.uuid4().hex[:10]}"
    agent = await make_agent(desk_ctx, "戊")
    case_a, _ = await served_case(desk_ctx, outbox, cid, agent)
    case_b, card_b = await served_case(desk_ctx, outbox, cid, agent)
    await handle_inbound(desk_ctx, say(cid, button(card_b, "基本满意")))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    # B is rated: a card from before this change (no case) now rates A, the latest unrated one.
    await handle_inbound(desk_ctx, say(cid, '/rate{"score": 5}'))
    await outbox.wait_for(cid, rated_for(case_a))
    got = await ratings_of(desk_ctx, case_a, case_b)
    assert (got[case_a.tracking_no].score, got[case_b.tracking_no].score) == (5, 3)  # type: ignore[union-attr]
    # Nothing left to rate: refused, naming the latest case.
    await handle_inbound(desk_ctx, say(cid, '/rate{"score": 2}'))
    refused = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_rejected")
    assert case_b.tracking_no in refused.text


async def test_a_case_of_another_citizen_or_still_open_cannot_be_rated(desk_ctx, outbox) -> None:
    agent = await make_agent(desk_ctx, "己")
    owner, other = f"rate-{uuid.uuid4().hex[:10]}", f"rate-{uuid.uuid4().hex[:10]}"
    case, card = await served_case(desk_ctx, outbox, owner, agent)
    await handle_inbound(desk_ctx, say(other, button(card, "非常不满意")))
    refused = await outbox.wait_for(other, lambda o: o.metadata.get("event") == "rating_rejected")
    assert "未找到" in refused.text
    assert (await ratings_of(desk_ctx, case))[case.tracking_no] is None

    # A case still being served: the rating waits until it is closed.
    res = await handle_inbound(desk_ctx, say(other, "/human_handoff"))
    async with desk_ctx.sessions() as session:
        stmt = select(Case).where(Case.conversation_id == res.conversation_id)
        open_case = (await session.execute(stmt)).scalar_one()
    await handle_inbound(desk_ctx, say(other, f'/rate{{"case": "{open_case.tracking_no}", "score": 5}}'))
    early = await outbox.wait_for(other, lambda o: o.metadata.get("event") == "rating_rejected"
                                  and "尚未结束" in o.text)
    assert open_case.tracking_no in early.text
    assert (await ratings_of(desk_ctx, open_case))[open_case.tracking_no] is None


async def test_comment_is_stored_as_the_citizen_typed_it(desk_ctx, outbox) -> None:
    cid = f"rate-{uuid.uuid4().hex[:10]}"
    agent = await make_agent(desk_ctx, "庚")
    case, _ = await served_case(desk_ctx, outbox, cid, agent)
    comment = "排队太久，（等了４０分钟）！ＡＢＣ 窗口態度一般"
    text = "/rate" + json.dumps({"case": case.tracking_no, "score": 2, "comment": comment}, ensure_ascii=False)
    res = await handle_inbound(desk_ctx, say(cid, text))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    async with desk_ctx.sessions() as session:
        rating = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalar_one()
        stored = await session.get(Message, res.message_id)
    assert rating.comment == comment
    assert stored is not None and stored.text == text  # the citizen's message itself is kept whole too
    # What agents and the citizen's other tabs show for it is built by the desk from the rating.
    assert stored.payload["metadata"]["display_text"] == f"评价：不满意，{comment}"


async def test_a_long_comment_is_not_cut_by_the_classifier_limit(desk_ctx, outbox) -> None:
    cid = f"rate-{uuid.uuid4().hex[:10]}"
    agent = await make_agent(desk_ctx, "辛")
    case, _ = await served_case(desk_ctx, outbox, cid, agent)
    comment = "材料要求写得不清楚，" * 45  # 450 characters: the payload is longer than the 500-character classifier cut
    payload = json.dumps({"case": case.tracking_no, "score": 3, "comment": comment}, ensure_ascii=False)
    await handle_inbound(desk_ctx, say(cid, "/rate" + payload))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    async with desk_ctx.sessions() as session:
        rating = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalar_one()
    assert rating.comment == comment


async def test_an_over_long_comment_is_refused_politely_and_the_case_can_still_be_rated(desk_ctx, outbox) -> None:
    from agent_desk.services.ratings import MAX_COMMENT_CHARS

    cid = f"rate-{uuid.uuid4().hex[:10]}"
    agent = await make_agent(desk_ctx, "壬")
    case, _ = await served_case(desk_ctx, outbox, cid, agent)
    too_long = "差" * (MAX_COMMENT_CHARS + 1)
    await handle_inbound(desk_ctx, say(cid, "/rate" + json.dumps(
        {"case": case.tracking_no, "score": 1, "comment": too_long}, ensure_ascii=False)))
    refused = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_too_long")
    assert refused.metadata["case"] == case.tracking_no and refused.metadata["max_chars"] == MAX_COMMENT_CHARS
    assert f"最多{MAX_COMMENT_CHARS}字" in refused.text and "尚未提交" in refused.text and "精简" in refused.text
    assert (await ratings_of(desk_ctx, case))[case.tracking_no] is None  # nothing stored, nothing cut
    # Shortened to the limit, it is stored exactly as typed.
    exact = "窗口，" * (MAX_COMMENT_CHARS // 3) + "慢" * (MAX_COMMENT_CHARS % 3)
    assert len(exact) == MAX_COMMENT_CHARS
    await handle_inbound(desk_ctx, say(cid, "/rate" + json.dumps(
        {"case": case.tracking_no, "score": 1, "comment": exact}, ensure_ascii=False)))
    await outbox.wait_for(cid, rated_for(case))
    assert (await ratings_of(desk_ctx, case))[case.tracking_no].comment == exact  # type: ignore[union-attr]


def test_rate_payload_parsing() -> None:
    assert parse_rate_payload('/rate{"score": 4}') == parse_rate_payload('/rate{"score":4}')
    req = parse_rate_payload('/rate{"case": "SL20261204-0003", "score": 1, "comment": "慢，"}')
    assert req is not None and (req.case, req.score, req.comment) == ("SL20261204-0003", 1, "慢，")
    assert parse_rate_payload('/rate{"score": 4}').case is None  # type: ignore[union-attr]
    for bad in ('/rate{"case": 3, "score": 1}', '/rate{"case": "x; drop", "score": 1}', '/rate{"score": 9}',
                "/rate{score:5}", "/rate"):
        assert parse_rate_payload(bad) is None, bad


async def test_mini_program_digit_carries_the_case_of_the_card_it_answers(desk_ctx) -> None:
    from agent_desk.services.cases import rating_card
    from channels.miniprogram import to_inbound
    from channels.miniprogram_render import render_text

    case = Case(tracking_no="SL20261204-0003")
    text, options = render_text(rating_card(case), first_option=1)
    assert "1. 非常满意" in text and "5. 非常不满意" in text
    openid = f"oRate{uuid.uuid4().hex[:16]}"
    await desk_ctx.redis.set(desk_ctx.keys.wechat_options(openid), json.dumps(options, ensure_ascii=False))
    inbound = await to_inbound(desk_ctx, {"FromUserName": openid, "MsgType": "text", "Content": "５", "MsgId": "1"})
    req = parse_rate_payload(inbound.text)
    assert req is not None and (req.case, req.score) == ("SL20261204-0003", 1)


async def test_two_managers_recording_a_rectification_at_once_one_wins(desk_ctx, outbox) -> None:
    import asyncio

    from agent_desk.services.ratings import RatingError, complete_rectification

    cid = f"rectify-{uuid.uuid4().hex[:10]}"
    case, card = await served_case(desk_ctx, outbox, cid, await make_agent(desk_ctx, "戊"))
    await handle_inbound(desk_ctx, say(cid, card.buttons[4].payload))  # 非常不满意
    await outbox.wait_for(cid, rated_for(case))
    rating = (await ratings_of(desk_ctx, case))[case.tracking_no]
    assert rating is not None and rating.rectification == "pending"
    async with desk_ctx.sessions() as session:
        managers = [await create_user(session, username=f"m{i}-{uuid.uuid4().hex[:6]}", display_name=f"主管{i}",
                                      role=Role.manager, password="manager-password-123") for i in (1, 2)]
        await session.commit()

    async def record(manager, note: str):  # type: ignore[no-untyped-def]
        async with desk_ctx.sessions() as session:
            done = await complete_rectification(session, rating_id=rating.id, manager=manager, note=note)
            await session.commit()
            return done.rectification_note

    results = await asyncio.gather(record(managers[0], "已约谈坐席并回访市民"), record(managers[1], "已整改"),
                                   return_exceptions=True)
    notes = [r for r in results if isinstance(r, str)]
    assert len(notes) == 1 and sum(isinstance(r, RatingError) for r in results) == 1
    stored = (await ratings_of(desk_ctx, case))[case.tracking_no]
    assert stored is not None and stored.rectification == "done" and stored.rectification_note == notes[0]
