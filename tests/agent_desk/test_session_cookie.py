"""The staff session cookie: HttpOnly and SameSite=Strict always, Secure when the desk is served
over https (DESK_PUBLIC_URL, or DESK_COOKIE_SECURE), also on the logout that clears it.
Settings parsing in-process; the cookies from real desk processes."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agent_desk.settings import Settings, SettingsError

from . import desk_process
from .desk_process import DeskProcess

AGENT, AGENT_PW = "agent", "agent-demo-2026"


@pytest.mark.parametrize(("env", "secure"), [
    ({}, False),
    ({"DESK_PUBLIC_URL": "http://127.0.0.1:8000"}, False),
    ({"DESK_PUBLIC_URL": "https://kefu.example.gov.cn/"}, True),
    ({"DESK_PUBLIC_URL": "https://kefu.example.gov.cn", "DESK_COOKIE_SECURE": "off"}, False),
    ({"DESK_PUBLIC_URL": "http://10.0.0.5:8000", "DESK_COOKIE_SECURE": "on"}, True),
    ({"DESK_COOKIE_SECURE": "1"}, True),
])
def test_cookie_secure_follows_the_public_url(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                              secure: bool) -> None:
    for name in ("DESK_PUBLIC_URL", "DESK_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.cookie_secure is secure
    assert not settings.public_url.endswith("/")


@pytest.mark.parametrize(("name", "value"), [("DESK_COOKIE_SECURE", "maybe"),
                                             ("DESK_PUBLIC_URL", "kefu.example.gov.cn")])
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()


def session_cookies(r: httpx.Response) -> list[dict[str, str]]:
    """The desk_session Set-Cookie headers as {attribute (lower case): value}."""
    found = []
    for header in r.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "desk_session":
            parts = [p.strip() for p in rest.split(";")]
            attrs = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in parts[1:])}
            found.append({"value": parts[0], **attrs})
    return found


@pytest.fixture(scope="module")
def http_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[DeskProcess]:
    desk = desk_process.start(pg_url, redis_url, service_token, name="desk-cookie-http",
                              extra={"DESK_PUBLIC_URL": "http://127.0.0.1:8000"})
    yield desk
    desk.stop()


@pytest.fixture(scope="module")
def https_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str]) -> Iterator[DeskProcess]:
    # Behind an https proxy; the test talks to the desk itself over http, as the proxy would.
    desk = desk_process.start(pg_url, redis_url, service_token, name="desk-cookie-https",
                              extra={"DESK_PUBLIC_URL": "https://kefu.example.gov.cn"})
    yield desk
    desk.stop()


def login_and_logout(desk: DeskProcess) -> tuple[dict[str, str], dict[str, str]]:
    with httpx.Client(base_url=desk.url, timeout=30) as http:
        login = desk.login(http, AGENT, AGENT_PW)
        assert login.status_code == 200
        token = login.json()["token"]
        logout = http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert logout.status_code == 200
        # An ended session's 401 clears the cookie too.
        ended = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert ended.status_code == 401
    [set_cookie], [cleared], [ended_cleared] = session_cookies(login), session_cookies(logout), session_cookies(ended)
    assert set_cookie["value"] == token and set_cookie["max-age"] == str(12 * 3600)
    assert cleared["value"] in ('""', "") and cleared["max-age"] == "0"
    assert ended_cleared == cleared
    return set_cookie, cleared


def test_over_https_the_cookie_is_secure(https_desk: DeskProcess) -> None:
    for cookie in login_and_logout(https_desk):
        assert "secure" in cookie and "httponly" in cookie
        assert cookie["samesite"] == "Strict" and cookie["path"] == "/"


def test_over_plain_http_it_is_not(http_desk: DeskProcess) -> None:
    for cookie in login_and_logout(http_desk):
        # Without Secure on the deletion too: a browser drops a Secure Set-Cookie sent over http.
        assert "secure" not in cookie and "httponly" in cookie
        assert cookie["samesite"] == "Strict" and cookie["path"] == "/"
