"""Browser tests: Debian's Chromium driven by Playwright, against real desk processes.

``web_desk`` is a desk whose bot URL is a closed port (so every question is handed to a
person, the desk's designed fallback); tests that need real bot answers use the shared
``desk_server`` fixture (real Rasa).
"""
from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import services

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HERE = Path(__file__).resolve().parent
ARTIFACTS = services.ROOT / "test-artifacts" / "browser"


@dataclass
class WebDesk:
    url: str
    port: int
    log: Path
    upload_dir: Path
    redis_url: str
    redis_prefix: str

    def login(self, username: str, password: str) -> str:
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["token"])


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def web_desk(pg_url: str, redis_url: str, service_token: str, demo_users: dict[str, str],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDesk]:
    port = services.free_port()
    uploads = tmp_path_factory.mktemp("uploads")
    prefix = f"desk-web-{uuid.uuid4().hex[:8]}"
    env = services.desk_env(
        database_url=pg_url, redis_url=redis_url, bot_url=f"http://127.0.0.1:{services.free_port()}", port=port,
        prefix=prefix, service_token=service_token,
        extra={"DESK_UPLOAD_DIR": str(uploads)})
    proc = services.start_desk(env, port, name="desk-web")
    yield WebDesk(url=f"http://127.0.0.1:{port}", port=port, log=proc.log, upload_dir=uploads,
                  redis_url=redis_url, redis_prefix=prefix)
    proc.stop()


@pytest.fixture(scope="module")
def browser(demo_users: dict[str, str]) -> Iterator[object]:
    # Playwright's sync API keeps an event loop running in this thread while it is open, so
    # fixtures that call asyncio.run (database set-up) must come first, and the browser is
    # closed at the end of each module so later asyncio tests get a clean thread.
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    # The desk's pages forbid eval (CSP without 'unsafe-eval'), and Playwright polls a string
    # predicate of wait_for_function with eval inside the page; so these contexts bypass the
    # CSP, and test_page_policy.py checks the pages under their real policy.
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 800}, bypass_csp=True)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def webchat_bundle() -> Path:
    """rasa-webchat's published UMD bundle; installs the npm package when node_modules is missing."""
    folder = HERE / "webchat"
    bundle = folder / "node_modules" / "rasa-webchat" / "lib" / "index.js"
    if not bundle.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install rasa-webchat for the compatibility test")
        cmd = [npm, "ci"] if (folder / "package-lock.json").exists() else [npm, "install"]
        subprocess.run([*cmd, "--no-audit", "--no-fund", "--legacy-peer-deps"], cwd=folder, check=True,
                       timeout=600)
    return bundle


def no_dialogs(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Collects any alert/confirm/prompt: the widget must never pop one up."""
    seen: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen
