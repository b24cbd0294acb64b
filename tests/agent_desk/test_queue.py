"""The Redis queue view: order, positions, and rebuilding it from the database."""
from __future__ import annotations

from agent_desk import queue
from agent_desk.models import Case, CaseStatus, Citizen, Conversation, ConversationStatus, utcnow
from agent_desk.services.tracking import next_tracking_no

C10, C20, C30 = 800_000_010, 800_000_020, 800_000_030  # far above real case ids


def ours(ids: list[int], mine: set[int]) -> list[int]:
    # The context rebuilt its queue from the shared test database: keep only this test's ids.
    return [i for i in ids if i in mine]


async def test_positions_follow_enqueue_time(desk_ctx) -> None:
    # Scores far in the past, so these come before any real queued case in the database.
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=C30, score=3.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=C10, score=1.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=C20, score=2.0)
    assert ours(await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys), {C10, C20, C30}) == [C10, C20, C30]
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=C30) == 3
    await queue.dequeue(desk_ctx.redis, desk_ctx.keys, case_id=C10)
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=C30) == 2
    assert await queue.position(desk_ctx.redis, desk_ctx.keys, case_id=C10) is None


async def test_enqueue_twice_keeps_first_place(desk_ctx) -> None:
    a, b = 900_000_001, 900_000_002
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=a, score=1.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=b, score=2.0)
    await queue.enqueue(desk_ctx.redis, desk_ctx.keys, case_id=a, score=9.0)  # a duplicate delivery
    assert ours(await queue.waiting_ids(desk_ctx.redis, desk_ctx.keys), {a, b}) == [a, b]


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
