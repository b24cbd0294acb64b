"""A manager lifts a login lock: POST /api/staff/<id>/unlock, and enabling an account also
clears it; both audited. A real desk process on the real PostgreSQL and Redis."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from .desk_process import DeskProcess, audit_entries, create_staff, plain_desk  # noqa: F401  (fixture)

PASSWORD = "clerk-password-123"


def _new_agent(pg_url: str) -> tuple[int, str]:
    return create_staff(pg_url, password=PASSWORD)


@pytest.fixture
def http(plain_desk: DeskProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=plain_desk.url, timeout=30, headers={"X-Forwarded-For": "198.51.100.77"}) as client:
        yield client


def _lock(desk: DeskProcess, http: httpx.Client, username: str) -> None:
    answers = [desk.login(http, username, "wrong-password-123") for _ in range(5)]
    assert [r.status_code for r in answers] == [401] * 4 + [429]
    assert answers[-1].json()["error"].endswith("也可请管理人员解锁。")  # which a manager now can
    assert desk.login(http, username, PASSWORD).status_code == 429


def test_a_manager_unlocks_a_locked_account(plain_desk: DeskProcess, http: httpx.Client, pg_url: str,  # noqa: F811
                                            demo_users: dict[str, str]) -> None:
    user_id, username = _new_agent(pg_url)
    _lock(plain_desk, http, username)
    assert http.post(f"/api/staff/{user_id}/unlock").status_code == 401
    agent = plain_desk.headers("agent", demo_users["agent"])
    refused = http.post(f"/api/staff/{user_id}/unlock", headers=agent)
    assert refused.status_code == 403
    assert plain_desk.login(http, username, PASSWORD).status_code == 429  # still locked
    manager = plain_desk.headers("manager", demo_users["manager"])
    done = http.post(f"/api/staff/{user_id}/unlock", headers=manager)
    assert done.status_code == 200, done.text
    assert done.json()["user"]["username"] == username and done.json()["was_locked"] is True
    assert plain_desk.login(http, username, PASSWORD).status_code == 200
    # Unlocking also forgets the failures counted so far: five more are needed for a new lock.
    _lock(plain_desk, http, username)
    again = http.post(f"/api/staff/{user_id}/unlock", headers=manager).json()
    assert again["was_locked"] is True
    nothing = http.post(f"/api/staff/{user_id}/unlock", headers=manager).json()
    assert nothing["was_locked"] is False
    assert http.post("/api/staff/999999999/unlock", headers=manager).status_code == 404
    entries = [e for e in audit_entries(pg_url, "staff.unlock") if e.target_id == username]
    assert [e.detail for e in entries] == [{"was_locked": True}, {"was_locked": True}, {"was_locked": False}]
    assert entries[0].actor_role == "manager"


def test_disable_then_enable_also_lifts_the_lock(plain_desk: DeskProcess, http: httpx.Client, pg_url: str,  # noqa: F811
                                                 demo_users: dict[str, str]) -> None:
    user_id, username = _new_agent(pg_url)
    _lock(plain_desk, http, username)
    manager = plain_desk.headers("manager", demo_users["manager"])
    assert http.post(f"/api/staff/{user_id}/disable", headers=manager).status_code == 200
    enabled = http.post(f"/api/staff/{user_id}/enable", headers=manager)
    assert enabled.status_code == 200 and enabled.json()["was_locked"] is True
    assert plain_desk.login(http, username, PASSWORD).status_code == 200
    entry = [e for e in audit_entries(pg_url, "staff.enable") if e.target_id == username][-1]
    assert entry.detail == {"was_locked": True}


def test_the_list_says_which_logins_are_locked(plain_desk: DeskProcess, http: httpx.Client, pg_url: str,  # noqa: F811
                                              demo_users: dict[str, str]) -> None:
    user_id, username = _new_agent(pg_url)
    assert http.get("/api/staff/").status_code == 401
    agent = plain_desk.headers("agent", demo_users["agent"])
    assert http.get("/api/staff/", headers=agent).status_code == 403
    manager = plain_desk.headers("manager", demo_users["manager"])

    def row() -> dict[str, object]:
        listed = http.get("/api/staff/", headers=manager)
        assert listed.status_code == 200, listed.text
        return next(u for u in listed.json()["staff"] if u["id"] == user_id)

    assert row() == {"id": user_id, "username": username, "display_name": "窗口坐席", "role": "agent",
                     "active": True, "locked": False, "locked_until": None, "locked_seconds": 0}
    _lock(plain_desk, http, username)
    locked = row()
    assert locked["locked"] is True and 0 < int(locked["locked_seconds"]) <= 15 * 60  # type: ignore[call-overload]
    until = datetime.fromisoformat(str(locked["locked_until"]))
    assert abs((until - datetime.now(UTC)).total_seconds() - int(locked["locked_seconds"])) < 5  # type: ignore[call-overload]
    disabled = http.post(f"/api/staff/{user_id}/disable", headers=manager).json()["user"]
    assert disabled["active"] is False and disabled["locked"] is True  # 停用 leaves the lock
    unlocked = http.post(f"/api/staff/{user_id}/unlock", headers=manager).json()["user"]
    assert unlocked["locked"] is False and unlocked["locked_until"] is None
    assert row()["locked"] is False and row()["active"] is False
