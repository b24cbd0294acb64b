"""What the agent workspace is told about a case: citizen, agent, topic title, rating."""
from __future__ import annotations

import httpx
import pytest

from tests.agent_desk.desk_process import plain_desk, seed_case, seed_rating  # noqa: F401  (fixture)

GJJ_TITLE = "公积金账户余额与缴存查询"


@pytest.fixture
async def api(plain_desk):  # noqa: F811
    async with httpx.AsyncClient(base_url=plain_desk.url, timeout=30) as client:
        yield client


async def test_accept_and_close_answer_with_the_citizen_and_the_agent(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="王女士")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    accepted = (await api.post(f"/api/cases/{case.id}/accept", headers=agent)).json()["case"]
    assert accepted["citizen"]["name"] == "王女士"
    assert accepted["agent_name"] == "王晓明" and accepted["status"] == "assigned"
    closed = (await api.post(f"/api/cases/{case.id}/close", json={"note": ""}, headers=agent)).json()["case"]
    assert closed["citizen"]["name"] == "王女士"
    assert closed["agent_name"] == "王晓明" and closed["status"] == "closed"


async def test_a_close_note_over_the_limit_is_refused_and_the_case_stays_open(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="周女士")
    manager = plain_desk.headers("manager", "manager-demo-2026")
    r = await api.post(f"/api/cases/{case.id}/close", json={"note": "已" * 2001}, headers=manager)
    assert r.status_code == 400 and "不能超过 2000 个字" in r.json()["error"]
    assert (await api.get(f"/api/cases/{case.id}", headers=manager)).json()["case"]["status"] == "queued"
    r = await api.post(f"/api/cases/{case.id}/close", json={"note": "已" * 2000}, headers=manager)
    assert r.status_code == 200 and r.json()["case"]["status"] == "closed"


async def test_manager_closing_a_queued_case_is_not_named_as_its_agent(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="李先生")
    manager = plain_desk.headers("manager", "manager-demo-2026")
    r = await api.post(f"/api/cases/{case.id}/close", json={"note": "市民已离开"}, headers=manager)
    closed = r.json()["case"]
    assert closed["agent_id"] is None and closed["agent_name"] is None
    assert closed["citizen"]["name"] == "李先生"
    again = (await api.get(f"/api/cases/{case.id}", headers=manager)).json()["case"]
    assert again["agent_name"] is None


async def test_manager_closing_an_agents_case_keeps_the_agent(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="赵女士")
    await api.post(f"/api/cases/{case.id}/accept", headers=plain_desk.headers("agent2", "agent2-demo-2026"))
    manager = plain_desk.headers("manager", "manager-demo-2026")
    closed = (await api.post(f"/api/cases/{case.id}/close", json={}, headers=manager)).json()["case"]
    assert closed["agent_name"] == "李芳"


async def test_case_topic_is_the_last_knowledge_topic_by_title(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    # The bot answered a provident-fund question, then the citizen asked for a person: the
    # conversation's last topic is the handoff intent, which is no subject of a case.
    case = await seed_case(desk_ctx, bot_topics=("greet", "gjj_chaxun", "human_handoff"), last_topic="human_handoff")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    view = (await api.get(f"/api/cases/{case.id}", headers=agent)).json()["case"]
    assert view["topic_title"] == GJJ_TITLE
    listed = next(c for c in (await api.get("/api/cases/", params={"status": "queued"}, headers=agent)).json()["cases"]
                  if c["id"] == case.id)
    assert listed["topic_title"] == GJJ_TITLE
    msgs = (await api.get(f"/api/cases/{case.id}/messages", headers=agent)).json()["messages"]
    assert [m["topic_label"] for m in msgs if m["sender"] == "bot"] == ["问候", GJJ_TITLE, "转人工"]


async def test_a_case_with_only_dialogue_topics_has_no_topic(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, bot_topics=("greet", "goodbye"), last_topic="goodbye")
    view = (await api.get(f"/api/cases/{case.id}", headers=plain_desk.headers("agent", "agent-demo-2026"))).json()
    assert view["case"]["topic_title"] is None


async def test_a_closed_case_carries_its_rating(api, plain_desk, desk_ctx) -> None:  # noqa: F811
    case = await seed_case(desk_ctx, name="周先生")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    await api.post(f"/api/cases/{case.id}/accept", headers=agent)
    await api.post(f"/api/cases/{case.id}/close", json={}, headers=agent)
    assert (await api.get(f"/api/cases/{case.id}", headers=agent)).json()["case"]["rating"] is None
    await seed_rating(desk_ctx, case=case, score=2, comment="等得太久")
    view = (await api.get(f"/api/cases/{case.id}", headers=agent)).json()["case"]
    assert view["rating"] == {"score": 2, "label": "不满意", "comment": "等得太久"}
    closed = (await api.get("/api/cases/", params={"status": "closed"}, headers=agent)).json()["cases"]
    assert next(c for c in closed if c["id"] == case.id)["rating"]["label"] == "不满意"


async def test_an_agent_reads_the_queue_and_their_own_cases_not_a_colleagues(
        api, plain_desk, desk_ctx) -> None:  # noqa: F811
    agent = plain_desk.headers("agent", "agent-demo-2026")
    colleague = plain_desk.headers("agent2", "agent2-demo-2026")
    manager = plain_desk.headers("manager", "manager-demo-2026")
    waiting = await seed_case(desk_ctx, name="孙女士")
    # Waiting in the queue: every agent may read it, to decide to accept it.
    for who in (agent, colleague, manager):
        assert (await api.get(f"/api/cases/{waiting.id}", headers=who)).status_code == 200
        assert (await api.get(f"/api/cases/{waiting.id}/messages", headers=who)).status_code == 200
    await api.post(f"/api/cases/{waiting.id}/accept", headers=colleague)
    # Now it is the colleague's conversation: not this agent's to read, served or closed.
    for closed in (False, True):
        if closed:
            await api.post(f"/api/cases/{waiting.id}/close", json={}, headers=colleague)
        for path in ("", "/messages", "/channel-info"):
            r = await api.get(f"/api/cases/{waiting.id}{path}", headers=agent)
            assert r.status_code == 403 and r.json()["error"] == "该工单不在您的处理范围内", (path, closed)
            assert (await api.get(f"/api/cases/{waiting.id}{path}", headers=colleague)).status_code == 200
            assert (await api.get(f"/api/cases/{waiting.id}{path}", headers=manager)).status_code == 200
        status = "closed" if closed else "assigned"
        listed = lambda r: {c["id"] for c in r.json()["cases"]}  # noqa: E731
        assert waiting.id not in listed(await api.get("/api/cases/", params={"status": status}, headers=agent))
        assert waiting.id in listed(await api.get("/api/cases/", params={"status": status}, headers=colleague))
        assert waiting.id in listed(await api.get("/api/cases/", params={"status": status}, headers=manager))
