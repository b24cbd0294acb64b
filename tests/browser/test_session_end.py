"""The agent workspace in Chromium when its login is ended elsewhere: the desk closes its live
connection and the page goes back to the login form, saying why."""
from __future__ import annotations

import httpx
import pytest

from .staff_page import login as _login

pytestmark = pytest.mark.browser


def test_logout_everywhere_returns_the_open_workspace_to_the_login_form(  # type: ignore[no-untyped-def]
        context, web_desk, demo_users):
    page = context.new_page()
    _login(page, f"{web_desk.url}/agent", "agent2", demo_users["agent2"])
    page.locator("#live", has_text="在线").wait_for()
    token = web_desk.login("agent2", demo_users["agent2"])  # the same person, in another browser
    r = httpx.post(f"{web_desk.url}/api/auth/logout", json={"everywhere": True},
                   headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert r.status_code == 200
    page.locator("#login .login-error", has_text="登录已退出或已失效，请重新登录").wait_for(timeout=15_000)
    assert page.locator("#workspace").is_hidden()
