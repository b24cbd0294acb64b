"""Staff sessions end at logout (server-side revocation), and logins are throttled per
username and per client address. A real desk process on the real PostgreSQL and Redis."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import httpx
import pytest
import socketio
from itsdangerous import URLSafeTimedSerializer

from . import desk_process
from .desk_process import DeskProcess, audit_entries

AGENT, AGENT_PW = "agent", "agent-demo-2026"
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[DeskProcess]:
    # The per-address limit is set apart from the per-username one so each can be seen alone.
    proc = desk_process.start(pg_url, redis_url, service_token, name="desk-auth",
                              extra={"DESK_LOGIN_IP_MAX_FAILURES": "12", "DESK_LOGIN_LOCK_S": "600"})
    yield proc
    proc.stop()


@pytest.fixture
def http(desk: DeskProcess) -> Iterator[httpx.Client]:
    # Each test comes from its own address (uvicorn trusts X-Forwarded-For from 127.0.0.1),
    # so one test's failed logins never count against another's.
    ip = f"198.51.100.{next(_addresses)}"
    with httpx.Client(base_url=desk.url, timeout=30, headers={"X-Forwarded-For": ip}) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_token(desk: DeskProcess, http: httpx.Client, username: str = AGENT, password: str = AGENT_PW) -> str:
    r = desk.login(http, username, password)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


# --- logout ends the session -------------------------------------------------------------

def test_logout_ends_the_bearer_session_at_once(desk: DeskProcess, http: httpx.Client, pg_url: str) -> None:
    token, other = login_token(desk, http), login_token(desk, http)
    assert http.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert http.post("/api/auth/logout", headers=bearer(token)).status_code == 200
    me = http.get("/api/auth/me", headers=bearer(token))
    assert me.status_code == 401 and me.json()["error"] == "登录已退出或已失效，请重新登录"
    assert http.get("/api/cases/", headers=bearer(token)).status_code == 401
    assert http.post("/api/auth/logout", headers=bearer(token)).status_code == 401
    # Only that session ended: the same user's other login still works.
    assert http.get("/api/cases/", headers=bearer(other)).status_code == 200
    logouts = [e for e in audit_entries(pg_url, "auth.logout") if e.target_id == AGENT]
    assert logouts and logouts[-1].detail == {"everywhere": False}


def test_logout_ends_the_cookie_session(desk: DeskProcess) -> None:
    with httpx.Client(base_url=desk.url, timeout=30) as browser:
        login = desk.login(browser, AGENT, AGENT_PW)
        cookie = login.cookies["desk_session"]
        assert browser.get("/api/auth/me").status_code == 200  # the cookie alone
        out = browser.post("/api/auth/logout")
        assert out.status_code == 200 and "desk_session" not in browser.cookies
    # A copy of the cookie taken before the logout is worthless now.
    with httpx.Client(base_url=desk.url, timeout=30, cookies={"desk_session": cookie}) as stolen:
        assert stolen.get("/api/auth/me").status_code == 401


def test_logout_everywhere_ends_every_session_of_the_user(desk: DeskProcess, http: httpx.Client) -> None:
    first, second = login_token(desk, http), login_token(desk, http)
    manager = login_token(desk, http, "manager", "manager-demo-2026")
    assert http.post("/api/auth/logout", headers=bearer(first), json={"everywhere": True}).status_code == 200
    assert http.get("/api/auth/me", headers=bearer(second)).status_code == 401
    assert http.get("/api/auth/me", headers=bearer(manager)).status_code == 200  # other users untouched
    fresh = login_token(desk, http)  # logging in again right away works
    assert http.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_tokens_without_a_token_id_are_refused(desk: DeskProcess, http: httpx.Client) -> None:
    # What the desk signed before sessions could be ended: valid signature, no jti.
    signer = URLSafeTimedSerializer(desk_process.SECRET, salt="desk-staff-session")
    old_style = signer.dumps({"uid": 1, "role": "agent"})
    assert http.get("/api/auth/me", headers=bearer(old_style)).status_code == 401


async def test_a_logged_out_token_cannot_open_the_agent_socket(desk: DeskProcess) -> None:
    async with httpx.AsyncClient(base_url=desk.url, timeout=30) as http:
        r = await http.post("/api/auth/login", json={"username": AGENT, "password": AGENT_PW})
        token = r.json()["token"]
        live = socketio.AsyncClient(reconnection=False)
        await live.connect(desk.url, namespaces=["/agent"], auth={"token": token}, transports=["websocket"])
        await live.disconnect()
        assert (await http.post("/api/auth/logout", headers=bearer(token))).status_code == 200
    ended = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await ended.connect(desk.url, namespaces=["/agent"], auth={"token": token}, transports=["websocket"],
                            wait_timeout=10)
    await ended.disconnect()


# --- login throttling --------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account(desk: DeskProcess, http: httpx.Client, pg_url: str) -> None:
    codes = [desk.login(http, "manager", "wrong-password-123") for _ in range(4)]
    assert [r.status_code for r in codes] == [401] * 4
    assert codes[0].json() == {"error": "用户名或密码错误"}
    assert codes[3].json() == {"error": "用户名或密码错误（再错 1 次将暂停登录）"}
    fifth = desk.login(http, "manager", "wrong-password-123")
    assert fifth.status_code == 429
    assert 590 <= int(fifth.headers["Retry-After"]) <= 600 and fifth.json()["retry_after"] == 600
    assert fifth.json()["error"].startswith("登录失败次数过多，为保护账号安全，该账号已暂停登录。请 10 分钟后再试")
    # Now even the right password is refused, from any address, until the lock ends.
    right = desk.login(http, "manager", "manager-demo-2026", headers={"X-Forwarded-For": "198.51.100.251"})
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert desk.login(http, "Manager ", "manager-demo-2026").status_code == 429  # same account, other spelling
    assert desk.login(http, AGENT, AGENT_PW).status_code == 200  # other accounts are not affected
    locks = [e for e in audit_entries(pg_url, "auth.login_locked") if e.target_id == "manager"]
    assert locks and locks[-1].target_type == "user" and locks[-1].detail["failures"] == 5


def test_unknown_usernames_lock_the_same_way(desk: DeskProcess, http: httpx.Client) -> None:
    ghost = f"nobody-{uuid.uuid4().hex[:6]}"
    codes = [desk.login(http, ghost, "wrong-password-123") for _ in range(5)]
    assert [r.status_code for r in codes] == [401, 401, 401, 401, 429]
    real = [desk.login(http, "agent2", "wrong-password-123") for _ in range(5)]
    assert [r.json()["error"] for r in codes] == [r.json()["error"] for r in real]  # nothing tells them apart


def test_a_successful_login_clears_the_username_count(desk: DeskProcess, http: httpx.Client) -> None:
    for _ in range(4):
        assert desk.login(http, AGENT, "wrong-password-123").status_code == 401
    login_token(desk, http)
    for _ in range(4):
        assert desk.login(http, AGENT, "wrong-password-123").status_code == 401
    login_token(desk, http)


def test_one_address_guessing_many_usernames_is_locked(desk: DeskProcess, http: httpx.Client, pg_url: str) -> None:
    ip = http.headers["X-Forwarded-For"]
    codes = [desk.login(http, f"guess-{i}", "wrong-password-123").status_code for i in range(12)]
    assert codes == [401] * 11 + [429]
    refused = desk.login(http, AGENT, AGENT_PW)  # right password, locked address
    assert refused.status_code == 429 and refused.json()["error"].startswith("此网络登录失败次数过多")
    elsewhere = desk.login(http, AGENT, AGENT_PW, headers={"X-Forwarded-For": "198.51.100.252"})
    assert elsewhere.status_code == 200
    assert any(e.target_type == "ip" and e.target_id == ip for e in audit_entries(pg_url, "auth.login_locked"))
