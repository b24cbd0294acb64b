"""The main job end to end, with every real process: a citizen asks, the bot answers, the
citizen asks for a person, an agent takes over and chats, closes, the citizen rates, and the
manager's report shows it."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import socketio
import yaml

from tests.e2e.citizen_client import Citizen

pytestmark = pytest.mark.e2e
KB = Path(__file__).resolve().parents[2] / "data" / "kb"

# Everyday questions, none copied from the training data.
QUESTIONS = [
    ("我的社保卡不小心弄丢了，要怎么补一张新的", "shebao_ka"),
    ("租房子住能不能把公积金取出来用", "gjj_tiqu"),
    ("孩子刚出生，怎么给他上户口", "huji_xinsheng"),
    ("护照快过期了去哪里换新的", "huzhao"),
    ("你们政务服务中心在哪里，几点开门", "dating_dizhi"),
]


def kb_entry(topic: str) -> dict:
    return yaml.safe_load((KB / f"{topic}.yml").read_text(encoding="utf-8"))


async def test_citizen_bot_agent_rating_report(e2e_desk, bot_stack) -> None:
    url = e2e_desk.url
    citizen = Citizen(url)
    await citizen.connect()

    # 1. Five real questions, each answered with the right topic, from the knowledge base.
    for question, topic in QUESTIONS:
        start = len(citizen.received)
        await citizen.say(question)
        answer = await citizen.wait_for(lambda m: m["metadata"].get("sender") == "bot", start=start)
        assert answer["metadata"].get("topic") == topic, (question, answer)
        # The answer is the knowledge-base entry for that topic.
        entry = kb_entry(topic)
        assert entry["title"] in answer["text"] and entry["summary"].strip()[:20] in answer["text"]
        assert answer["metadata"]["message_id"] > 0

    # 2. The citizen wants a person: a case with a tracking number and a queue place.
    start = len(citizen.received)
    await citizen.say("我要找人工客服")
    queued = await citizen.wait_for(lambda m: m["metadata"].get("event") == "queued", start=start)
    tracking_no = queued["metadata"]["case"]
    assert tracking_no.startswith("SL") and tracking_no in queued["text"]
    assert queued["metadata"]["queue_position"] == 1

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        # 3. The agent logs in, sees the case live and in the queue, accepts it.
        login = await http.post("/api/auth/login", json={"username": "agent", "password": "agent-demo-2026"})
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        agent_events: list[tuple[str, dict]] = []
        agent_event = asyncio.Event()
        agent_sio = socketio.AsyncClient(reconnection=False)

        def on_case_message(data: dict) -> None:
            agent_events.append(("case_message", data))
            agent_event.set()

        agent_sio.on("case_message", on_case_message, namespace="/agent")
        await agent_sio.connect(url, namespaces=["/agent"], auth={"token": login.json()["token"]},
                                transports=["websocket"])
        queue = (await http.get("/api/cases/", params={"status": "queued"}, headers=auth)).json()["cases"]
        case = next(c for c in queue if c["tracking_no"] == tracking_no)
        assert case["queue_position"] == 1 and case["channel"] == "web"
        # The case's topic is the last service the bot answered about, not the handoff request.
        assert case["topic"] == QUESTIONS[-1][1]
        accepted = await http.post(f"/api/cases/{case['id']}/accept", headers=auth)
        assert accepted.status_code == 200 and accepted.json()["case"]["status"] == "assigned"
        again = await http.post(f"/api/cases/{case['id']}/accept", headers=auth)
        assert again.status_code == 409
        await citizen.wait_for(lambda m: m["metadata"].get("event") == "assigned", start=start)

        # The bot part of the conversation is visible to the agent.
        transcript = (await http.get(f"/api/cases/{case['id']}/messages", headers=auth)).json()["messages"]
        citizen_texts = [m["text"] for m in transcript if m["sender"] == "citizen"]
        assert citizen_texts[:5] == [q for q, _ in QUESTIONS]
        assert sum(1 for m in transcript if m["sender"] == "bot") >= 5

        # 4. Messages both ways.
        start = len(citizen.received)
        sent = await http.post(f"/api/cases/{case['id']}/messages", headers=auth,
                               json={"text": "您好，我是王晓明，请问您要办理哪项业务？"})
        assert sent.status_code == 201
        from_agent = await citizen.wait_for(lambda m: m["metadata"].get("sender") == "agent", start=start)
        assert from_agent["text"] == "您好，我是王晓明，请问您要办理哪项业务？"
        assert from_agent["metadata"]["agent_name"] == "王晓明"

        await citizen.say("我想问问异地就医备案要什么材料")

        async def agent_saw_it() -> None:
            while not any(e[1]["message"]["text"] == "我想问问异地就医备案要什么材料" for e in agent_events):
                agent_event.clear()
                await agent_event.wait()

        await asyncio.wait_for(agent_saw_it(), 30)  # live, over the agent's socket
        assert any(e[1]["case_id"] == case["id"] and e[1]["message"]["sender"] == "citizen" for e in agent_events)
        transcript = (await http.get(f"/api/cases/{case['id']}/messages", headers=auth)).json()["messages"]
        assert transcript[-1]["text"] == "我想问问异地就医备案要什么材料"
        # In human mode Rasa never saw that message.
        tracker = httpx.get(f"{bot_stack.url}/conversations/conv-{case['conversation_id']}/tracker",
                            params={"token": bot_stack.token}, timeout=10).json()
        user_texts = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
        assert "我想问问异地就医备案要什么材料" not in user_texts
        assert QUESTIONS[1][0] in user_texts  # (the desk sends Rasa normalised text)
        await agent_sio.disconnect()

        # 5. The agent closes; the citizen is asked to rate, and rates 4 (满意).
        start = len(citizen.received)
        closed = await http.post(f"/api/cases/{case['id']}/close", headers=auth, json={"note": "已解答"})
        assert closed.status_code == 200
        ask = await citizen.wait_for(lambda m: m["metadata"].get("event") == "rating_request", start=start)
        assert [q["title"] for q in ask["quick_replies"]] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        await citizen.say('/rate{"score": 4}')
        rated = await citizen.wait_for(lambda m: m["metadata"].get("event") == "rated", start=start)
        assert "满意" in rated["text"]

        # 6. The manager's report shows one case, closed, with one 满意 rating.
        mgr = await http.post("/api/auth/login", json={"username": "manager", "password": "manager-demo-2026"})
        mauth = {"Authorization": f"Bearer {mgr.json()['token']}"}
        forbidden = await http.get("/api/reports/summary", headers=auth)
        assert forbidden.status_code == 403
        today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
        report = (await http.get("/api/reports/summary", params={"from": today, "to": today},
                                 headers=mauth)).json()
        assert report["handoffs"] == 1 and report["cases_closed"] == 1 and report["conversations"] == 1
        dist = {d["label"]: d["count"] for d in report["ratings"]["distribution"]}
        assert dist == {"非常满意": 0, "满意": 1, "基本满意": 0, "不满意": 0, "非常不满意": 0}
        assert report["ratings"]["total"] == 1
    await citizen.close()
