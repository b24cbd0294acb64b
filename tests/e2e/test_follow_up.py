"""A follow-up about one aspect ("需要多长时间") with the real bot, action server and desk: it is
answered from the topic just answered, with that aspect first, and is not a miss."""
from __future__ import annotations

import pytest

from tests.e2e.citizen_client import Citizen

pytestmark = pytest.mark.e2e


async def test_a_follow_up_question_continues_the_topic(e2e_desk, bot_stack) -> None:
    citizen = Citizen(e2e_desk.url)
    await citizen.connect()
    try:
        answered = await citizen.ask("第一次出国，护照怎么办理")
        assert answered["metadata"].get("topic") == "huzhao", answered
        for question, first in (("需要多长时间", "办理时限："), ("那在哪里办呢", "现场办理："), ("要多少钱", "收费：")):
            reply = await citizen.ask(question)
            meta = reply["metadata"]
            assert meta.get("topic") == "huzhao" and meta.get("kind") == "answer", (question, reply)
            assert meta.get("fallback") is False, (question, reply)
            assert reply["text"].splitlines()[1].startswith(first), (question, reply["text"][:80])
        # A question naming its own subject is answered on its own, and becomes what follow-ups continue.
        other = await citizen.ask("驾驶证到期了怎么换")
        assert other["metadata"].get("topic") == "jiazhao_huanzheng", other
        for question in ("需要体检吗", "多久能拿到", "要不要钱", "流程是怎样的"):
            reply = await citizen.ask(question)
            assert reply["metadata"].get("topic") == "jiazhao_huanzheng", (question, reply)
            assert reply["metadata"].get("kind") == "answer", (question, reply)
        # Small talk and thanks are not follow-ups.
        thanks = await citizen.ask("好的谢谢")
        assert thanks["metadata"].get("topic") == "goodbye", thanks
    finally:
        await citizen.close()
