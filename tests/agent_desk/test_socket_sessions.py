"""Ending a staff session closes that session's live workspace sockets: after logout, logout
everywhere or a manager disabling the account, no new case or citizen message reaches it.
Real desk processes (two workers sharing Redis), real socket.io clients, PostgreSQL and Redis."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import socketio
from sqlalchemy import update

from agent_desk.models import User
from tests.e2e.citizen_client import Citizen

from . import desk_process
from .desk_process import DeskProcess, audit_entries
from .staff import make_agent
from .workspace_socket import Workspace

AGENT, AGENT_PW = "agent", "agent-demo-2026"
MANAGER, MANAGER_PW = "manager", "manager-demo-2026"
AGENT_PW_NEW = "agent-password-123"  # what tests/agent_desk/staff.make_agent gives new agents


@pytest.fixture(scope="module")
def desks(pg_url: str, redis_url: str, service_token: str,
          demo_users: dict[str, str]) -> Iterator[tuple[DeskProcess, DeskProcess]]:
    """Two desk processes on one Redis prefix, as two workers behind one address."""
    prefix = f"desk-sockets-{uuid.uuid4().hex[:8]}"
    first = desk_process.start(pg_url, redis_url, service_token, name="desk-sockets-a", prefix=prefix)
    second = desk_process.start(pg_url, redis_url, service_token, name="desk-sockets-b", prefix=prefix)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
async def http(desks: tuple[DeskProcess, DeskProcess]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desks[0].url, timeout=30) as client:
        yield client


async def login(http: httpx.AsyncClient, username: str, password: str) -> str:
    r = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_case(desk: DeskProcess, watcher: Workspace) -> tuple[Citizen, int]:
    """A citizen asks; the bot is unreachable, so the desk queues a case for a person.
    Returns the citizen and the id of the new case ``watcher`` (a live workspace) was told about."""
    seen = watcher.cases()
    citizen = Citizen(desk.url)
    await citizen.connect()
    await citizen.say(f"我要咨询社保卡补办 {uuid.uuid4().hex[:6]}")
    case_id = await watcher.wait_until(lambda _: max(watcher.cases() - seen, default=None))
    return citizen, int(case_id)


async def test_logout_closes_that_sessions_socket(desks: tuple[DeskProcess, DeskProcess],
                                                  http: httpx.AsyncClient) -> None:
    desk, other_worker = desks
    token, other_token = await login(http, AGENT, AGENT_PW), await login(http, AGENT, AGENT_PW)
    manager = await Workspace("manager").open(desk.url, await login(http, MANAGER, MANAGER_PW))
    # The logged-out session's workspace is on another worker than the one the logout reaches.
    leaving = await Workspace("logged out").open(other_worker.url, token)
    staying = await Workspace("other session").open(desk.url, other_token)
    citizen, first = await new_case(desk, manager)
    await leaving.wait_for("queue_updated", first)
    assert (await http.post(f"/api/cases/{first}/accept", headers=bearer(token))).status_code == 200

    assert (await http.post("/api/auth/logout", headers=bearer(token))).status_code == 200
    received = len(leaving.events)
    # After the logout: a citizen message on the agent's own case, and a new case.
    await citizen.say("还需要带什么材料？")
    await manager.wait_for("case_message", first)
    _, second = await new_case(desk, manager)
    await staying.wait_for("queue_updated", second)  # the same user's other session still works
    assert leaving.events[received:] == [], "a logged-out workspace still receives live updates"
    await leaving.wait_ended()
    assert not staying.ended.is_set()
    for ws in (manager, staying):
        await ws.close()
    await citizen.close()


async def test_logout_everywhere_closes_every_socket_of_the_user(desks: tuple[DeskProcess, DeskProcess],
                                                                 http: httpx.AsyncClient) -> None:
    desk, other_worker = desks
    first, second, third = [await login(http, AGENT, AGENT_PW) for _ in range(3)]
    on_a = await Workspace("first").open(desk.url, first)
    on_b = await Workspace("second").open(other_worker.url, second)
    colleague = await Workspace("agent2").open(desk.url, await login(http, "agent2", "agent2-demo-2026"))
    r = await http.post("/api/auth/logout", headers=bearer(third), json={"everywhere": True})
    assert r.status_code == 200
    await on_a.wait_ended()
    await on_b.wait_ended()
    citizen, case_id = await new_case(desk, colleague)  # other users' workspaces are untouched
    assert case_id not in on_a.cases() | on_b.cases()
    await colleague.close()
    await citizen.close()


async def test_disabling_an_account_closes_its_workspace_at_once(desks: tuple[DeskProcess, DeskProcess],
                                                                 http: httpx.AsyncClient, desk_ctx: object,
                                                                 pg_url: str) -> None:
    desk, other_worker = desks
    agent = await make_agent(desk_ctx, "待停用坐席")
    token = await login(http, agent.username, AGENT_PW_NEW)
    workspace = await Workspace("to be disabled").open(other_worker.url, token)
    manager_token = await login(http, MANAGER, MANAGER_PW)
    manager = await Workspace("manager").open(desk.url, manager_token)
    citizen, case_id = await new_case(desk, manager)
    await workspace.wait_for("queue_updated", case_id)
    assert (await http.post(f"/api/cases/{case_id}/accept", headers=bearer(token))).status_code == 200

    tracking_no = (await manager.wait_for("queue_updated", case_id))["case"]["tracking_no"]

    r = await http.post(f"/api/staff/{agent.id}/disable", headers=bearer(manager_token))
    assert r.status_code == 200, r.text
    assert r.json() == {"user": {"id": agent.id, "username": agent.username, "display_name": "待停用坐席",
                                 "role": "agent", "active": False, "locked": False, "locked_until": None,
                                 "locked_seconds": 0}, "requeued_cases": [tracking_no]}
    # The case is waiting again, and its citizen is told so, with their place.
    back = await manager.wait_until(lambda events: next(
        (d["case"] for e, d in events if e == "queue_updated" and d["case"]["id"] == case_id
         and d["case"]["status"] == "queued" and d["case"]["agent_id"] is None), None))
    assert back["queue_position"] >= 1
    told = await citizen.wait_for(lambda b: b["metadata"].get("requeued"))
    assert "客服人员有变动" in told["text"] and told["metadata"]["case"] == tracking_no
    received = len(workspace.events)
    await citizen.say("请问还在吗？")
    await manager.wait_for("case_message", case_id)
    _, second = await new_case(desk, manager)
    assert workspace.events[received:] == []
    await workspace.wait_ended()
    # The account is shut out everywhere: API, a new socket, a new login.
    assert (await http.get("/api/auth/me", headers=bearer(token))).status_code == 401
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Workspace("reopened").open(desk.url, token)
    assert (await http.post("/api/auth/login", json={"username": agent.username,
                                                     "password": AGENT_PW_NEW})).status_code == 401
    disables = await asyncio.to_thread(audit_entries, pg_url, "staff.disable")
    [entry] = [e for e in disables if e.target_id == agent.username]
    assert entry.detail == {"requeued_cases": [tracking_no]}

    # Enabled again, the account logs in anew; the token from before stays void.
    r = await http.post(f"/api/staff/{agent.id}/enable", headers=bearer(manager_token))
    assert r.status_code == 200 and r.json()["user"]["active"] is True
    fresh = await login(http, agent.username, AGENT_PW_NEW)
    assert (await http.get("/api/auth/me", headers=bearer(fresh))).status_code == 200
    assert (await http.get("/api/auth/me", headers=bearer(token))).status_code == 401
    back = await Workspace("enabled again").open(desk.url, fresh)
    await back.close()
    await manager.close()
    await citizen.close()


async def test_a_disabled_accounts_token_cannot_open_the_socket(desks: tuple[DeskProcess, DeskProcess],
                                                                http: httpx.AsyncClient, desk_ctx: object) -> None:
    # Disabled without the API (an operator's UPDATE): the token is still validly signed and not
    # revoked, but the account is inactive.
    agent = await make_agent(desk_ctx, "库中停用")
    token = await login(http, agent.username, AGENT_PW_NEW)
    async with desk_ctx.sessions() as session:  # type: ignore[attr-defined]
        await session.execute(update(User).where(User.id == agent.id).values(active=False))
        await session.commit()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Workspace("inactive").open(desks[0].url, token)


async def test_only_managers_handle_accounts(http: httpx.AsyncClient) -> None:
    agent_token, manager_token = await login(http, AGENT, AGENT_PW), await login(http, MANAGER, MANAGER_PW)
    listed = await http.get("/api/staff/", headers=bearer(manager_token))
    assert listed.status_code == 200
    me = next(u for u in listed.json()["staff"] if u["username"] == MANAGER)
    assert me["active"] is True and set(me) == {"id", "username", "display_name", "role", "active", "locked",
                                                "locked_until", "locked_seconds"}
    assert (await http.get("/api/staff/", headers=bearer(agent_token))).status_code == 403
    assert (await http.post(f"/api/staff/{me['id']}/disable", headers=bearer(agent_token))).status_code == 403
    own = await http.post(f"/api/staff/{me['id']}/disable", headers=bearer(manager_token))
    assert own.status_code == 409 and own.json() == {"error": "不能停用自己的账号"}
    missing = await http.post("/api/staff/99999999/disable", headers=bearer(manager_token))
    assert missing.status_code == 404 and missing.json() == {"error": "账号不存在"}
    assert (await http.get("/api/auth/me", headers=bearer(manager_token))).status_code == 200


@pytest.fixture(scope="module")
def short_sessions(pg_url: str, redis_url: str, service_token: str,
                   demo_users: dict[str, str]) -> Iterator[DeskProcess]:
    desk = desk_process.start(pg_url, redis_url, service_token, name="desk-short-sessions",
                              extra={"DESK_SESSION_TTL_S": "3"})
    yield desk
    desk.stop()


async def test_a_socket_closes_when_its_token_expires(short_sessions: DeskProcess) -> None:
    async with httpx.AsyncClient(base_url=short_sessions.url, timeout=30) as http:
        token = await login(http, AGENT, AGENT_PW)
        workspace = await Workspace("expiring").open(short_sessions.url, token)
        await workspace.wait_ended(timeout=15)
        assert (await http.get("/api/auth/me", headers=bearer(token))).status_code == 401
