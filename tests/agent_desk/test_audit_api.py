"""GET /api/audit: managers read the audit log (filters, newest first, paging by id, numbers
masked); agents and anonymous callers cannot; reading leaves no entry of its own. A real desk
process on the real PostgreSQL and Redis."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from agent_desk.services.tracking import CHINA_TZ

from .desk_process import DeskProcess, add_audit_entry, create_staff, plain_desk  # noqa: F401  (fixture)


@pytest.fixture
def http(plain_desk: DeskProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=plain_desk.url, timeout=30, headers={"X-Forwarded-For": "198.51.100.88"}) as client:
        yield client


def test_managers_read_the_audit_log(plain_desk: DeskProcess, http: httpx.Client, pg_url: str,  # noqa: F811
                                     demo_users: dict[str, str]) -> None:
    assert http.get("/api/audit/").status_code == 401
    agent = plain_desk.headers("agent", demo_users["agent"])
    assert http.get("/api/audit/", headers=agent).status_code == 403
    assert http.get("/api/audit", headers=agent).status_code == 403
    manager = plain_desk.headers("manager", demo_users["manager"])

    # Three actions on a fresh account: unlock, disable, enable (audited staff.*).
    user_id, username = create_staff(pg_url)
    for step in ("unlock", "disable", "enable"):
        assert http.post(f"/api/staff/{user_id}/{step}", headers=manager).status_code == 200
    # An entry from before bank cards were masked holds one whole; reading masks it.
    legacy = add_audit_entry(pg_url, actor_id=None, actor_role="", action="test.legacy", target_type="user",
                             target_id=username, detail={"note": "卡号6222021234567890123 手机13812345678"})

    got = http.get("/api/audit", params={"target": username}, headers=manager)
    assert got.status_code == 200, got.text
    entries = got.json()["entries"]
    assert [e["action"] for e in entries] == ["test.legacy", "staff.enable", "staff.disable", "staff.unlock"]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)  # newest first
    assert entries[0]["id"] == legacy and entries[0]["actor"] is None
    assert entries[0]["detail"] == {"note": "卡号6222***********0123 手机138****5678"}
    enable = entries[1]
    assert enable["actor"] == "manager" and enable["actor_role"] == "manager" and enable["actor_name"]
    assert enable["target_type"] == "user" and enable["detail"] == {"was_locked": False}
    assert enable["ip"] == "198.51.100.88" and enable["created_at"]

    # Filters: actor (any case), action exact or by prefix, dates (China), and paging with before.
    by_prefix = http.get("/api/audit/", params={"target": username, "action": "staff."}, headers=manager).json()
    assert [e["action"] for e in by_prefix["entries"]] == ["staff.enable", "staff.disable", "staff.unlock"]
    exact = http.get("/api/audit/", params={"target": username, "action": "staff.disable", "actor": "MANAGER"},
                     headers=manager).json()["entries"]
    assert [e["action"] for e in exact] == ["staff.disable"]
    assert http.get("/api/audit/", params={"target": username, "actor": "agent"}, headers=manager).json() == \
        {"entries": [], "next_before": None}
    today = datetime.now(CHINA_TZ).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    dated = http.get("/api/audit/", params={"target": username, "from": today.isoformat(), "to": today.isoformat()},
                     headers=manager).json()["entries"]
    assert len(dated) == 4
    before_today = http.get("/api/audit/", params={"target": username, "to": yesterday}, headers=manager)
    assert before_today.json()["entries"] == []
    first = http.get("/api/audit/", params={"target": username, "limit": 3}, headers=manager).json()
    assert len(first["entries"]) == 3 and first["next_before"] == first["entries"][-1]["id"]
    rest = http.get("/api/audit/", params={"target": username, "limit": 3, "before": first["next_before"]},
                    headers=manager).json()
    assert [e["action"] for e in rest["entries"]] == ["staff.unlock"] and rest["next_before"] is None

    # Bad filters are polite 400s.
    for bad in ({"from": "2026-13-01"}, {"from": today.isoformat(), "to": yesterday}, {"before": "-1"},
                {"limit": "x"}, {"actor": "a" * 65}):
        r = http.get("/api/audit/", params=bad, headers=manager)
        assert r.status_code == 400 and r.json()["error"], (bad, r.text)

    # Reading the log wrote nothing to it.
    latest = http.get("/api/audit/", params={"limit": 1}, headers=manager).json()["entries"][0]["id"]
    http.get("/api/audit/", headers=manager)
    assert http.get("/api/audit/", params={"limit": 1}, headers=manager).json()["entries"][0]["id"] == latest
