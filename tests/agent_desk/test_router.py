"""Router states against the real PostgreSQL and Redis: bot → queued → assigned → closed → rated.

These tests need no Rasa: the handoff here is the 转人工 payload or an unreachable bot, both of
which the desk decides on its own. Bot-driven handoffs are tested in test_router_bot.py.
"""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import func, select

from agent_desk import queue
from agent_desk.models import Case, CaseStatus, Conversation, ConversationStatus, Message, Rating, Role
from agent_desk.services.agent_messages import send_agent_message
from agent_desk.services.auth import create_user
from agent_desk.services.cases import CaseError, accept_case, close_case
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage
from tests.agent_desk import capture
from tests.agent_desk.staff import make_agent


@pytest.fixture
def outbox():
    return capture.install()


def citizen_id() -> str:
    return f"router-{uuid.uuid4().hex[:10]}"


def say(cid: str, text: str, source_id: str | None = None, kind: str = "text") -> InboundMessage:
    return InboundMessage(channel=capture.CHANNEL, external_user_id=cid, text=text,  # type: ignore[arg-type]
                          source_id=source_id, kind=kind)  # type: ignore[arg-type]


async def case_of(ctx, conversation_id: int) -> Case:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        return (await session.execute(select(Case).where(Case.conversation_id == conversation_id))).scalar_one()


async def waiting_case(ctx, outbox, cid: str) -> Case:  # type: ignore[no-untyped-def]
    """A case for citizen ``cid``, waiting in the queue (the bot is unreachable here: any question hands off)."""
    result = await handle_inbound(ctx, say(cid, "我想问一下低保"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    return await case_of(ctx, result.conversation_id)


async def test_unreachable_bot_opens_case_and_tells_place_in_queue(desk_ctx, outbox) -> None:
    cid = citizen_id()
    result = await handle_inbound(desk_ctx, say(cid, "我想问一下公积金怎么提取"))
    queued = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    case = await case_of(desk_ctx, result.conversation_id)
    assert case.reason == "bot_unreachable" and case.status == CaseStatus.queued
    assert queued.metadata["case"] == case.tracking_no and case.tracking_no in queued.text
    assert queued.metadata["queue_position"] == await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=case.id)
    texts = [o.text for o in outbox.by_citizen[cid]]
    assert texts[0].startswith("智能客服暂时无法应答")
    async with desk_ctx.sessions() as session:
        stored = (await session.execute(select(Message).where(Message.conversation_id == result.conversation_id)
                                        .order_by(Message.id))).scalars().all()
    # The citizen's message was stored first, then the notices.
    assert [m.sender for m in stored][:1] == ["citizen"] and stored[0].text == "我想问一下公积金怎么提取"


async def test_messages_in_human_mode_go_to_agents_not_bot(desk_ctx, outbox) -> None:
    cid = citizen_id()
    first = await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    sent_before = len(outbox.by_citizen[cid])
    second = await handle_inbound(desk_ctx, say(cid, "我的身份证丢了，还在吗？"))
    assert second.conversation_id == first.conversation_id
    # Nothing went to the (unreachable) bot: no "bot unavailable" notice, no second case.
    assert len(outbox.by_citizen[cid]) == sent_before
    async with desk_ctx.sessions() as session:
        n_cases = (await session.execute(select(func.count(Case.id)).where(
            Case.conversation_id == first.conversation_id))).scalar_one()
        conv = await session.get(Conversation, first.conversation_id)
    assert n_cases == 1 and conv.status == ConversationStatus.queued


async def test_duplicate_delivery_is_stored_once(desk_ctx, outbox) -> None:
    cid = citizen_id()
    a, b = await asyncio.gather(handle_inbound(desk_ctx, say(cid, "/human_handoff", source_id="dup-1")),
                                handle_inbound(desk_ctx, say(cid, "/human_handoff", source_id="dup-1")))
    assert sorted([a.duplicate, b.duplicate]) == [False, True]
    async with desk_ctx.sessions() as session:
        n = (await session.execute(select(func.count(Message.id)).where(
            Message.source_id == "dup-1", Message.conversation_id == a.conversation_id))).scalar_one()
        cases = (await session.execute(select(func.count(Case.id)).where(
            Case.conversation_id == a.conversation_id))).scalar_one()
    assert n == 1 and cases == 1


async def test_empty_and_overlong_input_get_polite_answers_and_are_kept(desk_ctx, outbox) -> None:
    cid = citizen_id()
    await handle_inbound(desk_ctx, say(cid, " \u3000\t "))
    empty = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "empty")
    assert "请输入" in empty.text
    long_text = "我想咨询一下" * 200
    res = await handle_inbound(desk_ctx, say(cid, long_text))
    too_long = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "too_long")
    assert "已为您保存" in too_long.text
    async with desk_ctx.sessions() as session:
        kept = (await session.execute(select(Message.text).where(Message.id == res.message_id))).scalar_one()
    assert kept == long_text


async def test_exactly_one_agent_wins_a_simultaneous_accept(desk_ctx, outbox) -> None:
    cid = citizen_id()
    res = await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    case = await case_of(desk_ctx, res.conversation_id)
    a1, a2 = await make_agent(desk_ctx, "甲"), await make_agent(desk_ctx, "乙")
    results = await asyncio.gather(accept_case(desk_ctx, case_id=case.id, agent=a1),
                                   accept_case(desk_ctx, case_id=case.id, agent=a2), return_exceptions=True)
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, CaseError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].code == 409
    after = await case_of(desk_ctx, res.conversation_id)
    assert after.status == CaseStatus.assigned and after.agent_id in (a1.id, a2.id)
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=case.id) is None
    assigned = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "assigned")
    assert assigned.metadata["agent_name"] in ("甲", "乙")


async def test_simultaneous_closes_send_one_rating_card(desk_ctx, outbox) -> None:
    cid = citizen_id()
    res = await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    case = await case_of(desk_ctx, res.conversation_id)
    agent = await make_agent(desk_ctx, "丁")
    async with desk_ctx.sessions() as session:
        manager = await create_user(session, username=f"mgr-{uuid.uuid4().hex[:6]}", display_name="主管",
                                    role=Role.manager, password="manager-password-123")
        await session.commit()
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    results = await asyncio.gather(close_case(desk_ctx, case_id=case.id, agent=agent),
                                   close_case(desk_ctx, case_id=case.id, agent=agent),
                                   close_case(desk_ctx, case_id=case.id, agent=manager), return_exceptions=True)
    assert sum(isinstance(r, Case) for r in results) == 1
    assert all(r.code == 409 for r in results if isinstance(r, CaseError)) and len(results) == 3
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_request")
    async with desk_ctx.sessions() as session:
        cards = (await session.execute(select(func.count()).select_from(Message).where(
            Message.conversation_id == res.conversation_id, Message.text.like("%本次服务已结束%")))).scalar_one()
    assert cards == 1


async def test_agent_chat_close_and_one_rating_per_case(desk_ctx, outbox) -> None:
    cid = citizen_id()
    res = await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    case = await case_of(desk_ctx, res.conversation_id)
    agent = await make_agent(desk_ctx, "丙")
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    await send_agent_message(desk_ctx, case_id=case.id, agent=agent, text="您好，请问需要办理什么业务？")
    got = await outbox.wait_for(cid, lambda o: o.sender == "agent")
    assert got.text == "您好，请问需要办理什么业务？" and got.metadata["agent_name"] == "丙"
    await close_case(desk_ctx, case_id=case.id, agent=agent)
    ask = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_request")
    assert [b.title for b in ask.buttons] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    await handle_inbound(desk_ctx, say(cid, '/rate{"score": 2, "comment": "等待时间太长"}'))
    rated = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    assert "不满意" in rated.text
    await handle_inbound(desk_ctx, say(cid, '/rate{"score": 5}'))
    again = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_rejected")
    assert case.tracking_no in again.text
    async with desk_ctx.sessions() as session:
        ratings = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalars().all()
    assert len(ratings) == 1
    assert (ratings[0].score, ratings[0].label, ratings[0].comment) == (2, "不满意", "等待时间太长")
    assert ratings[0].agent_name == "丙" and ratings[0].rectification == "pending"


async def test_messages_of_one_citizen_are_processed_in_arrival_order(desk_ctx, outbox) -> None:
    cid = citizen_id()
    await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    tasks = [asyncio.create_task(handle_inbound(desk_ctx, say(cid, f"第{i}条"))) for i in range(10)]
    results = await asyncio.gather(*tasks)
    ids = [r.message_id for r in results]
    assert ids == sorted(ids)


async def test_lone_surrogates_are_stored_safely_and_answered(desk_ctx, outbox) -> None:
    cid = citizen_id()
    res = await handle_inbound(desk_ctx, say(cid, "社保\ud800卡 13900006666"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")  # bot unreachable here
    async with desk_ctx.sessions() as session:
        kept = (await session.execute(select(Message.text).where(Message.id == res.message_id))).scalar_one()
    assert kept == "社保\ufffd卡 13900006666"


async def test_pressing_handoff_again_while_queued_tells_the_place(desk_ctx, outbox) -> None:
    cid = citizen_id()
    await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    await handle_inbound(desk_ctx, say(cid, "/human_handoff"))
    queued = [o for o in outbox.by_citizen[cid] if o.metadata.get("event") == "queued"]
    assert len(queued) == 2 and "您已在排队" in queued[1].text
    assert queued[1].metadata["case"] == queued[0].metadata["case"]
    # Typed instead of pressed, the same answer.
    await handle_inbound(desk_ctx, say(cid, "转人工！"))
    queued = [o for o in outbox.by_citizen[cid] if o.metadata.get("event") == "queued"]
    assert len(queued) == 3 and "您已在排队" in queued[2].text


async def test_malformed_rating_is_refused_politely_not_sent_to_the_bot(desk_ctx, outbox) -> None:
    cid = citizen_id()
    res = await handle_inbound(desk_ctx, say(cid, "/rate{score:5}"))
    rejected = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rating_rejected")
    assert "评价未能识别" in rejected.text
    async with desk_ctx.sessions() as session:
        conv = await session.get(Conversation, res.conversation_id)
    # Not a bot turn: no fallback counted, no "bot unavailable" handoff.
    assert conv.consecutive_fallbacks == 0 and conv.status == ConversationStatus.bot


def test_only_topic_button_payloads_reach_rasa_as_payloads() -> None:
    from agent_desk.services.router import bot_text

    assert bot_text("/shebao_ka") == "/shebao_ka"
    assert bot_text("/restart") == "restart"
    assert bot_text('/case_status{"tracking_no": "SL20261203-0001"}').startswith("case_status{")
    assert bot_text("社保卡丢了") == "社保卡丢了"


async def test_a_citizen_in_danger_gets_the_hotlines_and_a_person_at_once(desk_ctx, outbox) -> None:
    cid = citizen_id()
    result = await handle_inbound(desk_ctx, say(cid, "活着太累了，我真的不想活了"))
    queued = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    first = outbox.by_citizen[cid][0]
    assert first.metadata.get("event") == "crisis" and "12356" in first.text and "110" in first.text
    case = await case_of(desk_ctx, result.conversation_id)
    assert case.reason == "crisis" and queued.metadata["case"] == case.tracking_no


async def test_a_citizen_in_danger_while_waiting_gets_the_hotlines_and_goes_first(desk_ctx, outbox) -> None:
    positions = {}
    cases = {}
    for name in ("early", "late", "in_danger"):
        cid = citizen_id()
        result = await handle_inbound(desk_ctx, say(cid, "我想问一下公积金怎么提取"))  # bot unreachable: queued
        await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
        cases[name] = (cid, await case_of(desk_ctx, result.conversation_id))
    cid, case = cases["in_danger"]
    await handle_inbound(desk_ctx, say(cid, "排了好久，我真的不想活了"))
    reply = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "crisis")
    assert "12356" in reply.text and "110" in reply.text and "优先" in reply.text
    async with desk_ctx.sessions() as session:
        urgent = await session.get(Case, case.id)
        assert urgent.urgent_at is not None and urgent.reason == "bot_unreachable"
        assert urgent.status == CaseStatus.queued
    for name, (_, c) in cases.items():
        positions[name] = await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=c.id)
    assert positions["in_danger"] < positions["early"] < positions["late"]
    # The reply names the case and the new place, so the citizen's header (and the message) show
    # the place they were moved to, not the one they had.
    assert reply.metadata["case"] == case.tracking_no
    assert reply.metadata["queue_position"] == positions["in_danger"]
    ahead = positions["in_danger"] - 1
    assert ("您是下一位" if ahead == 0 else f"前面还有 {ahead} 位") in reply.text
    # A crisis at the handoff is urgent too, and waits behind the one that became urgent first.
    cid2 = citizen_id()
    result = await handle_inbound(desk_ctx, say(cid2, "我想自杀"))
    await outbox.wait_for(cid2, lambda o: o.metadata.get("event") == "queued")
    second = await case_of(desk_ctx, result.conversation_id)
    assert second.urgent_at is not None
    second_pos = await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=second.id)
    early_pos = await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=cases["early"][1].id)
    assert positions["in_danger"] < second_pos < early_pos
    # The order survives a rebuild of the Redis queue from the database (desk restart).
    async with desk_ctx.sessions() as session:
        await queue.rebuild(desk_ctx.redis, desk_ctx.keys, session)
    rebuilt = [await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=c.id)
               for c in (case, second, cases["early"][1], cases["late"][1])]
    assert rebuilt == sorted(rebuilt)
    # Saying it again sends the hotlines again, and keeps its place.
    await handle_inbound(desk_ctx, say(cid, "真的活不下去了"))
    assert len([o for o in outbox.by_citizen[cid] if o.metadata.get("event") == "crisis"]) == 2
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=case.id) == rebuilt[0]


async def test_a_citizen_in_danger_while_served_gets_the_hotlines_and_the_agent_sees_it(desk_ctx, outbox) -> None:
    agent = await make_agent(desk_ctx, "陈静")
    cid = citizen_id()
    case = await waiting_case(desk_ctx, outbox, cid)
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    await handle_inbound(desk_ctx, say(cid, "说实话我想死"))
    reply = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "crisis")
    assert "12356" in reply.text and "正在为您服务" in reply.text
    assert "queue_position" not in reply.metadata  # served: no place in the queue to show
    async with desk_ctx.sessions() as session:
        served = await session.get(Case, case.id)
        assert served.urgent_at is not None and served.status == CaseStatus.assigned and served.agent_id == agent.id
    from agent_desk.services.cases import case_view

    assert case_view(served)["urgent"] is True


async def test_a_message_in_another_language_gets_a_notice_and_a_second_one_a_person(desk_ctx, outbox) -> None:
    # Rasa is not running here: the notice comes from the desk before any bot turn.
    cid = citizen_id()
    result = await handle_inbound(desk_ctx, say(cid, "パスポートの申請方法を教えてください"))
    notice = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "foreign_language")
    assert "中文" in notice.text and "reads Chinese" in notice.text and "중국어" in notice.text
    assert [b.payload for b in notice.buttons] == ["/human_handoff"]
    async with desk_ctx.sessions() as session:
        conv = await session.get(Conversation, result.conversation_id)
        assert conv.status == ConversationStatus.bot and conv.consecutive_fallbacks == 1
    await handle_inbound(desk_ctx, say(cid, "여권 신청은 어떻게 하나요"))
    queued = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    assert (await case_of(desk_ctx, result.conversation_id)).reason == "fallback" and queued.metadata["case"]


def test_what_counts_as_another_language() -> None:
    from agent_desk.services.language import is_foreign_language

    for text in ("パスポートの申請方法を教えてください", "도와주세요", "Как получить паспорт", "كيف أحصل على جواز سفر"):
        assert is_foreign_language(text), text
    for text in ("社保卡丢了", "business license 多久", "how to apply for a passport", "😀😀", "123", "gjj提取"):
        assert not is_foreign_language(text), text


def test_crisis_phrases_are_not_mistaken_in_service_questions() -> None:
    from agent_desk.services.crisis import is_crisis

    for text in ("我想自杀", "不想活了", "活不下去了", "我要跳楼", "想不开了", "我不活了", "我想去死",
                 "不想再活了", "生不如死，活着有什么意思", "刚吃了一瓶安眠药", "低保被取消了，死了算了",
                 "想结束这一切", "我要自残", "一了百了", "想离开这个世界", "准备上吊", "喝了农药",
                 "活着好累，不想撑了", "我准备了绳子", "我想从楼上跳下去", "办不下来我就去死", "我已经写好遗书了",
                 "我吃了一整瓶药", "我想割脉", "I want to kill myself", "死にたい"):
        assert is_crisis(text), text
    for text in ("死亡证明怎么开", "老人去世了高龄津贴怎么停", "父亲死亡后户口注销", "自由职业交社保", "热死了",
                 "家里老人想死后捐献遗体怎么办", "跳河里救人受伤算工伤吗", "想死你们了", "热得想死",
                 "我想死亡证明在哪开", "跳楼价", "想不开发票怎么办", "安眠药医保能报销吗",
                 "营业执照网上吊销怎么办", "我不想活动了", "我妈上个月离开这个世界了，她的养老金怎么办",
                 "吃了药还是发烧，医保能报吗", "带孩子好累啊，托育补贴怎么申请"):
        assert not is_crisis(text), text


async def test_a_long_message_in_distress_is_read_whole(desk_ctx, outbox) -> None:
    story = "我今年五十二岁，原来在厂里上班，厂子倒闭以后一直打零工，" * 20 + "现在房子也要被收走了，我真的不想活了。"
    assert len(story) > desk_ctx.settings.max_message_chars
    cid = citizen_id()
    result = await handle_inbound(desk_ctx, say(cid, story))
    reply = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "crisis")
    assert "12356" in reply.text
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    case = await case_of(desk_ctx, result.conversation_id)
    assert case.reason == "crisis" and case.urgent_at is not None
    assert not [o for o in outbox.by_citizen[cid] if o.metadata.get("event") == "too_long"]
    # The same story while already waiting: the hotlines again, and the case is urgent.
    other = citizen_id()
    res2 = await handle_inbound(desk_ctx, say(other, "我想问一下公积金怎么提取"))  # bot unreachable: queued
    await outbox.wait_for(other, lambda o: o.metadata.get("event") == "queued")
    await handle_inbound(desk_ctx, say(other, story))
    await outbox.wait_for(other, lambda o: o.metadata.get("event") == "crisis")
    assert (await case_of(desk_ctx, res2.conversation_id)).urgent_at is not None


async def test_distress_in_a_rating_comment_gets_the_hotlines_and_a_person(desk_ctx, outbox) -> None:
    agent = await make_agent(desk_ctx, "周敏")
    cid = citizen_id()
    case = await waiting_case(desk_ctx, outbox, cid)
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    await close_case(desk_ctx, case_id=case.id, agent=agent)
    comment = "事情办不成，我真的不想活了"
    payload = json.dumps({"case": case.tracking_no, "score": 1, "comment": comment}, ensure_ascii=False)
    await handle_inbound(desk_ctx, say(cid, "/rate" + payload))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    reply = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "crisis")
    assert "12356" in reply.text
    queued = await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued"
                                   and o.metadata.get("case") != case.tracking_no)
    async with desk_ctx.sessions() as session:
        new_case = (await session.execute(select(Case).where(Case.tracking_no == queued.metadata["case"]))).scalar_one()
        rating = (await session.execute(select(Rating).where(Rating.case_id == case.id))).scalar_one()
    assert new_case.id != case.id and new_case.reason == "crisis" and new_case.urgent_at is not None
    assert rating.score == 1 and rating.comment == "事情办不成，我真的不想活了"


async def test_staff_see_id_and_mobile_numbers_masked_while_the_record_keeps_them(desk_ctx, outbox) -> None:
    from agent_desk.services.messages import serialize

    cid = citizen_id()
    sent = "我的身份证号是110101199003071234，手机１３８１２３４５６７８，银行卡6222 0212 3456 7890 123，公积金怎么提取"
    result = await handle_inbound(desk_ctx, say(cid, sent))
    await outbox.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    async with desk_ctx.sessions() as session:
        stored = (await session.execute(select(Message).where(Message.id == result.message_id))).scalar_one()
    assert stored.text == sent  # nothing lost
    shown = serialize(stored)["text"]
    assert "110101199003071234" not in shown and "110***********1234" in shown
    assert "１３８１２３４５６７８" not in shown and "13812345678" not in shown and "公积金怎么提取" in shown
    assert "3456" not in shown and "6222***********0123" in shown
