"""The pages under their real Content-Security-Policy (the shared ``context`` fixture bypasses
it), and staff login on them: an agent on the manager-only reports and staff-account pages,
logout ending the session."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .staff_page import login as _login
from .widget_page import host_page, open_widget

pytestmark = pytest.mark.browser

# Every CSP violation a page reports, kept on window for the test to read.
CSP_SPY = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def strict(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser profile that applies the pages' CSP; make several for several people."""
    made = []

    def new_context():  # type: ignore[no-untyped-def]
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 800})
        ctx.set_default_timeout(20_000)
        ctx.add_init_script(CSP_SPY)
        made.append(ctx)
        return ctx

    yield new_context
    for ctx in made:
        ctx.close()


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate("() => window.__csp"))


def test_agent_on_reports_page_is_told_and_can_switch(strict, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = strict().new_page()
    _login(page, f"{web_desk.url}/reports", "agent", demo_users["agent"])
    told = "此页面仅限管理人员，您当前以坐席身份登录"
    page.locator(".login-error", has_text=told).wait_for()
    token = page.evaluate("() => sessionStorage.getItem('desk.token')")
    # The reported defect: after a reload the page showed an empty login form and no way out.
    page.reload()
    page.locator(".login-error", has_text=told).wait_for()
    assert page.locator("#report").is_hidden()
    assert page.locator("#username").is_hidden()  # no second login over the open session
    assert page.locator("#logout").is_visible()
    switch = page.locator("#login .login-switch")
    assert switch.inner_text() == "退出并切换账号"
    switch.click()
    page.locator("#username").wait_for()  # logged out, the form is back
    assert page.locator(".login-error").inner_text() == ""
    me = httpx.get(f"{web_desk.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 401  # the agent's session really ended
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    page.locator("#report").wait_for()
    assert _violations(page) == []


def test_agent_on_staff_page_is_told_and_can_switch(strict, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = strict().new_page()
    _login(page, f"{web_desk.url}/staff", "agent", demo_users["agent"])
    page.locator(".login-error", has_text="此页面仅限管理人员，您当前以坐席身份登录").wait_for()
    page.reload()
    page.locator(".login-error", has_text="请退出后用管理人员账号登录").wait_for()
    assert page.locator("#accounts").is_hidden() and page.locator("#username").is_hidden()
    assert page.locator("#logout").is_visible()
    page.locator("#login .login-switch").click()
    page.locator("#username").wait_for()
    assert _violations(page) == []


def test_pages_run_under_their_policy_without_violations(strict, web_desk, demo_users):  # type: ignore[no-untyped-def]
    citizen = open_widget(strict(), web_desk.url)
    citizen.fill("#zw-input", "你好")
    citizen.press("#zw-input", "Enter")
    citizen.locator(".zw-from-citizen", has_text="你好").wait_for()
    agent = strict().new_page()
    _login(agent, f"{web_desk.url}/agent", "agent2", demo_users["agent2"])
    agent.locator("#live", has_text="在线").wait_for()  # socket.io to the same origin is allowed
    agent.reload()  # a reload revalidates (304) and must keep the page's policy
    agent.locator("#live", has_text="在线").wait_for()
    reports = strict().new_page()  # the manager in a browser of their own
    _login(reports, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    reports.locator("#chart svg rect.bar").first.wait_for(state="attached")
    accounts = strict().new_page()
    _login(accounts, f"{web_desk.url}/staff", "manager", demo_users["manager"])
    accounts.locator("#staff-rows tr[data-username='agent2']").wait_for()
    accounts.locator("#staff-rows tr[data-username='agent2'] button[data-action=disable]").click()
    accounts.locator("tr.confirm-row button", has_text="取消").click()  # the confirm step runs under the policy
    accounts.reload()  # 304 keeps the policy
    accounts.locator("#staff-rows tr[data-username='agent2']").wait_for()
    missing = reports.goto(f"{web_desk.url}/no-such-page")
    assert missing is not None and missing.status == 404
    reports.locator("h1", has_text="页面不存在").wait_for()
    for page in (citizen, agent, reports, accounts):
        assert _violations(page) == [], page.url


def test_widget_embedded_on_another_site_under_its_policy(strict, web_desk, tmp_path):  # type: ignore[no-untyped-def]
    with host_page(tmp_path, web_desk.url) as url:
        page = strict().new_page()
        page.goto(url)
        page.click("#zw-embed-launcher")
        frame = page.frame_locator("#zw-embed-frame")
        frame.locator("#zw-input").fill("你好")  # frame-ancestors let the host page show it
        frame.locator("#zw-send").click()
        frame.locator(".zw-from-system", has_text="受理编号").wait_for()
