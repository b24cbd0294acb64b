"""The fallback sequence with the real bot and desk: a first message the bot cannot place
gets three topic buttons; a second miss in a row offers a person (a case is opened); an
understood question in between resets the count."""
from __future__ import annotations

import httpx
import pytest

from tests.e2e.citizen_client import Citizen

pytestmark = pytest.mark.e2e

# Characters that occur nowhere in the training data: nothing any intent could claim, so the
# classifier gives no confidence at all (bot/components/ngram_svm.py) and the bot falls back.
MISSES = ["龘靐齉", "䨻䨻䨻"]


async def test_two_misses_in_a_row_offer_a_person(e2e_desk, bot_stack) -> None:
    citizen = Citizen(e2e_desk.url)
    await citizen.connect()
    try:
        first = await citizen.ask(MISSES[0])
        assert first["metadata"].get("fallback") is True, first
        buttons = first.get("buttons") or first.get("quick_replies") or []
        assert len(buttons) == 3 and all(b["payload"].startswith("/") for b in buttons), first

        # An understood question resets the count: the next miss is again a first miss.
        answered = await citizen.ask("社保卡丢了怎么补办")
        assert answered["metadata"].get("topic") == "shebao_ka"
        again = await citizen.ask(MISSES[1])
        assert again["metadata"].get("fallback") is True, again

        # Second miss in a row: handed to a person, with a case and a queue place.
        start = len(citizen.received)
        await citizen.say(MISSES[0])
        queued = await citizen.wait_for(lambda m: m["metadata"].get("event") == "queued", start=start)
        tracking_no = queued["metadata"]["case"]
        assert tracking_no.startswith("SL") and tracking_no in queued["text"]
    finally:
        await citizen.close()

    async with httpx.AsyncClient(base_url=e2e_desk.url, timeout=30) as http:
        login = await http.post("/api/auth/login", json={"username": "agent", "password": "agent-demo-2026"})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        cases = (await http.get("/api/cases/", params={"status": "queued"}, headers=auth)).json()["cases"]
    case = next(c for c in cases if c["tracking_no"] == tracking_no)
    assert case["reason"] == "fallback"


async def test_messages_without_words_are_not_counted_as_misses(e2e_desk, bot_stack) -> None:
    # Emoji or punctuation alone the bot cannot place: it says so, but no case is opened for it.
    citizen = Citizen(e2e_desk.url)
    await citizen.connect()
    try:
        for text in ("😀😀😀", "？？", "😡"):
            reply = await citizen.ask(text)
            assert reply["metadata"].get("event") != "queued", (text, reply)
        # Still with the bot: a real question is answered, not queued for a person.
        answered = await citizen.ask("社保卡丢了怎么补办")
        assert answered["metadata"].get("topic") == "shebao_ka", answered
        # A wordless miss does not break a run of real misses either way: two real misses still hand off.
        await citizen.ask(MISSES[0])
        start = len(citizen.received)
        await citizen.say(MISSES[1])
        queued = await citizen.wait_for(lambda m: m["metadata"].get("event") == "queued", start=start)
        assert queued["metadata"]["case"].startswith("SL")
    finally:
        await citizen.close()
