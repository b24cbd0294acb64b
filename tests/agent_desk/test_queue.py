"""The Redis queue view: order, positions, and rebuilding it from the database."""
from __future__ import annotations

from agent_desk import queue
from agent_desk.models import Case, CaseStatus, Citizen, Conversation, ConversationStatus, utcnow
from agent_desk.services.tracking import next_tracking_no


async def test_positions_follow_enqueue_time(desk_ctx) -> None:
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=30, score=300.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=10, score=100.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=20, score=200.0)
    assert await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys) == [10, 20, 30]
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=30) == 3
    await queue.dequeue(desk_ctx.redis, desk_ctx.keys, case_id=10)
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=30) == 2
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=10) is None


async def test_enqueue_twice_keeps_first_place(desk_ctx) -> None:
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=1, score=1.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=2, score=2.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=1, score=9.0)  # a duplicate delivery
    assert await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys) == [1, 2]


async def test_rebuild_restores_queued_cases_after_redis_loss(desk_ctx) -> None:
    async with desk_ctx.sessions() as session:
        citizen = Citizen(channel="capture", external_id="queue-rebuild-citizen")
        session.add(citizen)
        await session.flush()
        ids = []
        for status in (CaseStatus.queued, CaseStatus.assigned, CaseStatus.queued):
            conv = Conversation(citizen_id=citizen.id, channel="capture", status=ConversationStatus.queued)
            session.add(conv)
            await session.flush()
            case = Case(tracking_no=await next_tracking_no(session, now=utcnow()), conversation_id=conv.id,
                        citizen_id=citizen.id, channel="capture", status=status, reason="button")
            session.add(case)
            await session.flush()
            ids.append((case.id, status))
        await session.commit()
        await desk_ctx.redis.delete(desk_ctx.keys.queue)  # Redis restarted empty
        await queue.rebuild(desk_ctx.redis, desk_ctx.keys, session)
    waiting = await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys)
    expected = [cid for cid, st in ids if st == CaseStatus.queued]
    assert [w for w in waiting if w in {cid for cid, _ in ids}] == expected
