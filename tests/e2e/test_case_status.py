"""Case status with every real process: the bot's action server asks the desk (service token)
about a real case in PostgreSQL, answers only the case's own citizen, and asks for the number
when it is missing."""
from __future__ import annotations

import httpx
import pytest

from tests.e2e.citizen_client import Citizen

pytestmark = pytest.mark.e2e


async def test_case_status_from_the_desk_records(desk_server, bot_stack) -> None:
    # desk_server, not e2e_desk: the action server is started with this desk's address and
    # service token (tests/conftest.py bot_stack), as scripts/run.sh does.
    citizen = Citizen(desk_server.url)
    stranger = Citizen(desk_server.url)
    await citizen.connect()
    await stranger.connect()
    try:
        # A real case: opened by a handoff, accepted and closed by an agent.
        start = len(citizen.received)
        await citizen.say("转人工")
        queued = await citizen.wait_for(lambda m: m["metadata"].get("event") == "queued", start=start)
        tracking_no = queued["metadata"]["case"]
        async with httpx.AsyncClient(base_url=desk_server.url, timeout=30) as http:
            login = await http.post("/api/auth/login", json={"username": "agent", "password": "agent-demo-2026"})
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            cases = (await http.get("/api/cases/", params={"status": "queued"}, headers=auth)).json()["cases"]
            case_id = next(c["id"] for c in cases if c["tracking_no"] == tracking_no)
            assert (await http.post(f"/api/cases/{case_id}/accept", headers=auth)).status_code == 200
            closed = await http.post(f"/api/cases/{case_id}/close", headers=auth, json={"note": "已解答"})
            assert closed.status_code == 200
        await citizen.wait_for(lambda m: m["metadata"].get("event") == "rating_request", start=start)

        # Asked with the number, in lower case and full width: the desk's record answers.
        typed = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in tracking_no.lower())
        found = await citizen.ask(f"帮我查一下{typed}办到哪一步了")
        assert found["metadata"].get("topic") == "case_status", found
        assert tracking_no in found["text"] and "已办结" in found["text"], found

        # Without a number the bot asks for it; the number alone then answers.
        asked = await citizen.ask("我之前提交的那个事情现在办得怎么样了")
        assert asked["metadata"].get("topic") == "case_status" and "受理编号" in asked["text"], asked
        answered = await citizen.ask(tracking_no)
        assert "已办结" in answered["text"], answered

        # Another citizen with the same number learns nothing about the case.
        other = await stranger.ask(f"{tracking_no} 办理进度")
        assert "没有查到" in other["text"] and "已办结" not in other["text"], other
    finally:
        await citizen.close()
        await stranger.close()
