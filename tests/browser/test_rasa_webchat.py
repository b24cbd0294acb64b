"""Protocol compatibility: the third-party rasa-webchat widget (npm) talks to our socket.io endpoint."""
from __future__ import annotations

import pytest

from .conftest import HERE

pytestmark = pytest.mark.browser


@pytest.mark.timeout(900)  # the first user of desk_server may train and start Rasa
def test_rasa_webchat_gets_answer_and_buttons(context, desk_server, webchat_bundle, artifacts):  # type: ignore[no-untyped-def]
    page = context.new_page()
    # The test page and bundle are served at the desk's own origin (same-origin socket.io).
    page.route(f"{desk_server.url}/__compat__/page.html", lambda r: r.fulfill(
        path=str(HERE / "webchat" / "page.html"), content_type="text/html; charset=utf-8"))
    page.route(f"{desk_server.url}/__compat__/rasa-webchat.js", lambda r: r.fulfill(
        path=str(webchat_bundle), content_type="application/javascript; charset=utf-8"))
    page.goto(f"{desk_server.url}/__compat__/page.html")
    box = page.locator(".rw-new-message")
    box.wait_for()
    box.fill("你好")
    box.press("Enter")
    page.locator(".rw-client", has_text="你好").wait_for()
    page.wait_for_function("[...document.querySelectorAll('.rw-response')].some(e => e.innerText.trim())",
                           timeout=30_000)
    buttons = page.locator(".rw-replies .rw-reply")
    buttons.first.wait_for(timeout=30_000)
    assert buttons.count() >= 2
    first_title = buttons.first.inner_text().strip()
    page.screenshot(path=str(artifacts / "rasa-webchat.png"), full_page=True)

    # A button press goes back as the payload and is answered too.
    answers_before = page.locator(".rw-response").count()
    buttons.first.click()
    page.wait_for_function(f"document.querySelectorAll('.rw-response').length > {answers_before}", timeout=30_000)
    assert first_title
