"""The 工作人员账号 page (/staff) in Chromium: a manager sees a locked login, unlocks it, disables
the account (its open case goes back to the queue) and enables it again; checked via the API."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.agent_desk.desk_process import create_staff

from .agent_api import AgentApi
from .staff_page import login as _login
from .widget_page import hand_off, open_widget

pytestmark = pytest.mark.browser

PASSWORD = "window-clerk-2026"


def _new_clerk(pg_url: str) -> tuple[int, str]:
    # create_staff runs asyncio.run, which cannot run in the thread Playwright's loop is in.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(create_staff, pg_url, prefix="window", password=PASSWORD).result()


def _listed(http: httpx.Client, user_id: int) -> dict[str, Any]:
    answer = http.get("/api/staff/")
    answer.raise_for_status()
    return next(u for u in answer.json()["staff"] if u["id"] == user_id)


def test_manager_unlocks_disables_and_enables_an_account(context, web_desk, demo_users, pg_url,  # type: ignore[no-untyped-def]
                                                         artifacts):
    user_id, username = _new_clerk(pg_url)
    tries = [httpx.post(f"{web_desk.url}/api/auth/login", json={"username": username, "password": "wrong-pass-1234"},
                        timeout=10) for _ in range(5)]
    assert [t.status_code for t in tries] == [401] * 4 + [429]
    manager = httpx.Client(base_url=web_desk.url, timeout=15,
                           headers={"Authorization": f"Bearer {web_desk.login('manager', demo_users['manager'])}"})
    assert _listed(manager, user_id)["locked"] is True

    # From the reports page's header to the staff page, still logged in.
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    page.locator("#report").wait_for()
    page.click("header a[href='/staff']")
    page.wait_for_url(f"{web_desk.url}/staff")
    page.locator("#accounts").wait_for()
    assert page.locator("header a[href='/reports']").inner_text() == "服务报表"
    row = page.locator(f"#staff-rows tr[data-user-id='{user_id}']")
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == username and cells[1] == "窗口坐席" and cells[2] == "坐席" and cells[3] == "启用"
    assert cells[4].startswith("已锁定（约 15 分钟后")
    mine = page.locator("#staff-rows tr[data-username='manager']")
    assert "本人" in mine.inner_text() and mine.locator("td").nth(2).inner_text() == "管理员"
    assert mine.locator("button[data-action=disable]").count() == 0  # no 停用 of oneself
    assert "本人账号不可停用" in mine.inner_text()
    assert "登录锁定" in page.inner_text("#staff-total")
    assert page.locator("#staff-rows tr[data-username='agent'] button[data-action=unlock]").count() == 0
    page.screenshot(path=str(artifacts / "staff-locked.png"), full_page=True)

    # 解锁
    row.locator("button[data-action=unlock]").click()
    row.locator(".row-msg", has_text="已解锁").wait_for()
    assert row.locator("td").nth(4).inner_text() == "未锁定"
    assert row.locator("button[data-action=unlock]").count() == 0
    assert "登录锁定" not in page.inner_text("#staff-total")
    assert _listed(manager, user_id)["locked"] is False
    clerk = AgentApi(web_desk.url, web_desk.login(username, PASSWORD))  # the login works again

    # The clerk is serving a citizen when the manager disables the account.
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    case = clerk.case_by_tracking(tracking)
    clerk.accept(case["id"])

    # 停用, with a confirm that says what it does; 取消 first leaves everything as it was.
    row.locator("button[data-action=disable]").click()
    confirm = page.locator("tr.confirm-row")
    text = confirm.inner_text()
    assert username in text and "不能再登录" in text and "登录会话立即结束" in text and "退回排队队列" in text
    page.screenshot(path=str(artifacts / "staff-confirm-disable.png"))
    confirm.locator("button", has_text="取消").click()
    assert confirm.count() == 0 and _listed(manager, user_id)["active"] is True
    row.locator("button[data-action=disable]").click()
    confirm.locator("button", has_text="确认停用").click()
    row.locator(".row-msg", has_text="已停用").wait_for()
    assert tracking in row.locator(".row-msg").inner_text()  # the case that went back to the queue
    assert row.locator("td").nth(3).inner_text() == "已停用"
    assert page.locator("tr.confirm-row").count() == 0
    page.screenshot(path=str(artifacts / "staff-disabled.png"), full_page=True)
    assert _listed(manager, user_id)["active"] is False
    assert clerk.http.get("/api/auth/me").status_code == 401  # its session ended
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    assert agent.case_by_tracking(tracking)["id"] == case["id"]  # queued again
    citizen.locator(".zw-from-system", has_text="已为您重新排队").wait_for()

    # 启用
    row.locator("button[data-action=enable]").click()
    row.locator(".row-msg", has_text="已启用").wait_for()
    assert row.locator("td").nth(3).inner_text() == "启用"
    assert row.locator("button[data-action=disable]").count() == 1
    assert _listed(manager, user_id)["active"] is True
    assert web_desk.login(username, PASSWORD)

    # A refusal from the desk is shown in the row, in Chinese, and the row stays as it was.
    page.route("**/api/staff/*/disable", lambda route: route.fulfill(
        status=409, content_type="application/json", body='{"error": "不能停用自己的账号"}'))
    row.locator("button[data-action=disable]").click()
    confirm.locator("button", has_text="确认停用").click()
    row.locator(".row-msg.error", has_text="停用失败：不能停用自己的账号").wait_for()
    assert row.locator("td").nth(3).inner_text() == "启用" and confirm.count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls in its box
    page.screenshot(path=str(artifacts / "staff-390.png"))
    manager.close()

