"""Refusals that the audit log keeps: an agent refused a colleague's case (``case.view_denied``),
and a login with the right password of a disabled account (``auth.login_failed`` saying so,
while the answer stays the generic one). A real desk process on the real PostgreSQL and Redis."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from agent_desk.models import AuditEntry

from .desk_process import DeskProcess, audit_entries, create_staff, plain_desk, seed_case  # noqa: F401  (fixture)


@pytest.fixture
def http(plain_desk: DeskProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=plain_desk.url, timeout=30, headers={"X-Forwarded-For": "198.51.100.91"}) as client:
        yield client


async def test_a_refused_read_of_a_colleagues_case_is_audited(plain_desk: DeskProcess, desk_ctx,  # noqa: F811
                                                              demo_users: dict[str, str]) -> None:
    case = await seed_case(desk_ctx, name="钱女士")
    agent = plain_desk.headers("agent", demo_users["agent"])
    colleague = plain_desk.headers("agent2", demo_users["agent2"])
    async with httpx.AsyncClient(base_url=plain_desk.url, timeout=30,
                                 headers={"X-Forwarded-For": "198.51.100.92"}) as api:
        assert (await api.post(f"/api/cases/{case.id}/accept", headers=colleague)).status_code == 200
        for path in ("", "/messages", "/channel-info"):
            r = await api.get(f"/api/cases/{case.id}{path}", headers=agent)
            assert r.status_code == 403 and r.json()["error"] == "该工单不在您的处理范围内", path
        assert (await api.get(f"/api/cases/{case.id}/messages", headers=colleague)).status_code == 200
    async with desk_ctx.sessions() as session:
        denied = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "case.view_denied", AuditEntry.target_id == case.tracking_no)
            .order_by(AuditEntry.id))).scalars().all()
    assert [(e.target_type, e.detail, e.actor_role, e.ip) for e in denied] == [
        ("case", {"read": read, "status": "assigned"}, "agent", "198.51.100.92")
        for read in ("case", "messages", "channel_info")]
    # The agent's own read is case.view, not a denial: the colleague's read added none.
    assert len({e.actor_id for e in denied}) == 1


def test_a_login_to_a_disabled_account_is_audited_as_such(plain_desk: DeskProcess, http: httpx.Client,  # noqa: F811
                                                          pg_url: str, demo_users: dict[str, str]) -> None:
    user_id, username = create_staff(pg_url, password="clerk-password-123")
    manager = plain_desk.headers("manager", demo_users["manager"])
    assert http.post(f"/api/staff/{user_id}/disable", headers=manager).status_code == 200
    right = plain_desk.login(http, username, "clerk-password-123")
    wrong = plain_desk.login(http, username, "wrong-password-123")
    # The same answer either way: whether an account exists or is disabled is not told.
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json()) == \
        (401, {"error": "用户名或密码错误"})
    failed = [e for e in audit_entries(pg_url, "auth.login_failed") if e.target_id == username]
    assert [e.detail for e in failed] == [{"reason": "account_disabled"}, {}]
