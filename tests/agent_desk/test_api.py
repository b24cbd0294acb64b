"""The desk's HTTP API as a real process: auth, roles, bad input, the service API, contracts."""
from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from agent_desk.models import AuditEntry
from agent_desk.services.router import handle_inbound
from channels.base import InboundMessage


@pytest.fixture(scope="module")
def http(desk_server):
    with httpx.Client(base_url=desk_server.url, timeout=30) as client:
        yield client


def login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = http.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_health_and_openapi_contracts(http) -> None:
    health = http.get("/healthz").json()
    assert health == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "bot": "ok"}}
    spec = http.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/healthz", "/api/auth/login", "/api/cases/{case_id}/accept", "/api/reports/summary"} <= set(spec["paths"])


def test_login_errors_are_polite_and_audited(http, desk_server, pg_url) -> None:
    r = http.post("/api/auth/login", json={"username": "agent", "password": "wrong-password"})
    assert r.status_code == 401 and r.json() == {"error": "用户名或密码错误"}
    assert http.post("/api/auth/login", content=b"{not json").status_code == 400
    assert http.post("/api/auth/login", json={"username": "", "password": ""}).json()["error"] == "请输入用户名和密码"
    assert http.post("/api/auth/login", json=["agent"]).status_code == 400

    async def failed_logins() -> list[str]:
        from agent_desk.db import make_engine, make_sessionmaker
        from tests.support.services import _normalise

        engine = make_engine(_normalise(pg_url))
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(AuditEntry.target_id).where(
                AuditEntry.action == "auth.login_failed"))).scalars().all()
        await engine.dispose()
        return list(rows)

    assert "agent" in asyncio.run(failed_logins())


def test_roles_are_enforced(http) -> None:
    assert http.get("/api/cases/").status_code == 401
    assert http.get("/api/cases/", headers={"Authorization": "Bearer forged.token.value"}).status_code == 401
    agent = login(http, "agent", "agent-demo-2026")
    manager = login(http, "manager", "manager-demo-2026")
    assert http.get("/api/reports/summary", headers=agent).status_code == 403
    assert http.get("/api/reports/summary", headers=manager).status_code == 200
    assert http.get("/api/cases/", params={"status": "bogus"}, headers=agent).status_code == 400
    assert http.post("/api/cases/999999/accept", headers=agent).status_code == 404
    assert http.get("/api/reports/summary", params={"from": "2026-13-01"}, headers=manager).status_code == 400
    bad_range = http.get("/api/reports/summary", params={"from": "2026-12-02", "to": "2026-12-01"}, headers=manager)
    assert bad_range.status_code == 400 and "结束日期" in bad_range.json()["error"]


def test_service_api_for_case_status(http, desk_server, desk_ctx_for_server) -> None:
    tracking_no = desk_ctx_for_server
    token = desk_server.env["DESK_SERVICE_TOKEN"]
    assert http.get(f"/api/internal/cases/{tracking_no}").status_code == 401
    assert http.get(f"/api/internal/cases/{tracking_no}",
                    headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = http.get(f"/api/internal/cases/{tracking_no.lower()}", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.json()["tracking_no"] == tracking_no and ok.json()["status"] == "queued"
    assert ok.json()["status_label"] == "排队等待人工客服"
    missing = http.get("/api/internal/cases/SL20200101-9999", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404
    # When the bot says which citizen asks, only the case's own citizen gets an answer.
    stranger = http.get(f"/api/internal/cases/{tracking_no}", params={"citizen_id": "999999"},
                        headers={"Authorization": f"Bearer {token}"})
    assert stranger.status_code == 404


@pytest.fixture
async def desk_ctx_for_server(desk_ctx):
    """A queued case in the shared test database, opened through the router."""
    from tests.agent_desk import capture

    box = capture.install()
    await handle_inbound(desk_ctx, InboundMessage(channel=capture.CHANNEL, external_user_id="api-case-status",  # type: ignore[arg-type]
                                                  text="/human_handoff"))
    queued = await box.wait_for("api-case-status", lambda o: o.metadata.get("event") == "queued")
    return queued.metadata["case"]


@pytest.fixture
async def bad_rating(desk_ctx):
    """A closed case rated 非常不满意, made through the router and case services."""
    import uuid

    from agent_desk.models import Role
    from agent_desk.services.auth import create_user
    from agent_desk.services.cases import accept_case, close_case
    from tests.agent_desk import capture

    box = capture.install()
    cid = f"api-rect-{uuid.uuid4().hex[:6]}"
    await handle_inbound(desk_ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                  text="/human_handoff"))
    queued = await box.wait_for(cid, lambda o: o.metadata.get("event") == "queued")
    async with desk_ctx.sessions() as session:
        agent = await create_user(session, username=f"rect-{cid}", display_name="赵六", role=Role.agent,
                                  password="agent-password-123")
        await session.commit()
    from agent_desk.models import Case

    async with desk_ctx.sessions() as session:
        case = (await session.execute(select(Case).where(Case.tracking_no == queued.metadata["case"]))).scalar_one()
    await accept_case(desk_ctx, case_id=case.id, agent=agent)
    await close_case(desk_ctx, case_id=case.id, agent=agent)
    await handle_inbound(desk_ctx, InboundMessage(channel=capture.CHANNEL, external_user_id=cid,  # type: ignore[arg-type]
                                                  text='/rate{"score": 1, "comment": "态度差"}'))
    await box.wait_for(cid, lambda o: o.metadata.get("event") == "rated")
    return case.tracking_no


def test_bad_rating_rectification_follow_up(http, bad_rating) -> None:
    manager = login(http, "manager", "manager-demo-2026")
    pending = http.get("/api/ratings/", params={"rectification": "pending"}, headers=manager).json()["ratings"]
    mine = next(r for r in pending if r["tracking_no"] == bad_rating)
    assert (mine["score"], mine["label"], mine["comment"], mine["agent_name"]) == (1, "非常不满意", "态度差", "赵六")
    empty = http.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "  "}, headers=manager)
    assert empty.status_code == 400 and empty.json()["error"] == "请填写整改情况说明"
    agent = login(http, "agent", "agent-demo-2026")
    assert http.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "x"}, headers=agent).status_code == 403
    # Too long is refused whole, not stored cut: the follow-up stays pending.
    long = http.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "回访" * 1001}, headers=manager)
    assert long.status_code == 400 and "不能超过 2000 个字" in long.json()["error"]
    still = http.get("/api/ratings/", params={"rectification": "pending"}, headers=manager).json()["ratings"]
    assert any(r["id"] == mine["id"] for r in still)
    done = http.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "已约谈当事客服并回访市民"},
                     headers=manager)
    assert done.status_code == 200
    assert done.json()["rating"]["rectification"] == "done" and done.json()["rating"]["rectified_at"]
    again = http.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "再次"}, headers=manager)
    assert again.status_code == 409
    assert http.post("/api/ratings/99999999/rectification", json={"note": "x"}, headers=manager).status_code == 404


def test_hostile_input_gets_4xx_never_500(http) -> None:
    agent = login(http, "agent", "agent-demo-2026")
    manager = login(http, "manager", "manager-demo-2026")
    huge = "99999999999999999999999"
    assert http.get(f"/api/cases/{huge}", headers=agent).status_code == 404
    assert http.post("/api/cases/9223372036854775808/accept", headers=agent).status_code == 404
    assert http.get(f"/api/cases/{huge}/channel-info", headers=agent).status_code == 404
    assert http.post(f"/api/ratings/{huge}/rectification", json={"note": "x"}, headers=manager).status_code == 404
    assert http.get("/api/cases/1/messages", params={"after": huge}, headers=agent).status_code == 400
    assert http.post("/api/cases/1/read", json={"up_to": int(huge)}, headers=agent).status_code == 400
    for lo, hi in (("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")):
        r = http.get("/api/reports/summary", params={"from": lo, "to": hi}, headers=manager)
        assert r.status_code == 400 and "之间" in r.json()["error"]
    r = http.post("/api/auth/login", content='{"username": "坐席\\u0000🙂", "password": "\\ud800xxxxxxxx"}',
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    r = http.post("/api/cases/1/messages", json={"text": ["a"]}, headers=agent)
    assert r.status_code == 400 and r.json()["error"] == "text 应为字符串"
    r = http.post("/api/cases/1/messages", json={"text": "好", "private": "false"}, headers=agent)
    assert r.status_code == 400 and "true 或 false" in r.json()["error"]
    r = http.post("/api/cases/1/messages", content=b'{"text": "' + b"a" * 300_000 + b'"}', headers=agent)
    assert r.status_code == 413
