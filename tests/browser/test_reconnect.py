"""消息漫游: history after reload and on a second device; resume after a dropped connection."""
from __future__ import annotations

import pytest

from .agent_api import AgentApi
from .widget_page import hand_off, open_widget, rendered, wait_ready

pytestmark = pytest.mark.browser


def _drop(page) -> None:  # type: ignore[no-untyped-def]
    """Cut the transport as a network failure would, and hold reconnection until ``_restore``."""
    page.evaluate("() => { const m = ZW.chat.socket.io; m.reconnection(false); m.engine.close(); }")
    page.wait_for_function("!ZW.chat.socket.connected")


def _restore(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("() => { ZW.chat.socket.io.reconnection(true); ZW.chat.socket.connect(); }")
    wait_ready(page)


def test_dropped_socket_resumes_in_order_without_duplicates(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    tracking = hand_off(page)
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = agent.case_by_tracking(tracking)
    agent.accept(case["id"])
    page.locator(".zw-from-system", has_text="已接入").wait_for()
    agent.say(case["id"], "【甲】请问您要办理什么业务？")
    page.locator(".zw-from-agent", has_text="【甲】").wait_for()

    _drop(page)
    page.locator("#zw-banner", has_text="网络已断开").wait_for()
    first = agent.say(case["id"], "【乙】您断线时我发的消息")
    second = agent.say(case["id"], "【丙】断线期间的另一条消息")
    # The citizen types while offline: the message waits in the outbox and goes out once.
    page.fill("#zw-input", "我断线时写的问题")
    page.press("#zw-input", "Enter")
    assert page.evaluate("ZW.chat.outbox().length") == 1

    _restore(page)
    page.locator(".zw-from-agent", has_text="【丙】").wait_for()
    page.wait_for_function("ZW.chat.outbox().length === 0")
    page.locator(".zw-from-citizen .zw-state", has_text="已送达").last.wait_for()

    msgs = rendered(page)
    ids = [m["id"] for m in msgs if m["id"] is not None]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), msgs
    texts = [m["text"] for m in msgs]
    assert sum("【乙】" in t for t in texts) == 1 and sum("【丙】" in t for t in texts) == 1
    assert texts.index(next(t for t in texts if "【乙】" in t)) < texts.index(next(t for t in texts if "【丙】" in t))
    assert first["id"] < second["id"]
    assert sum("我断线时写的问题" in t for t in texts) == 1
    stored = [m for m in agent.messages(case["id"]) if m["text"] == "我断线时写的问题"]
    assert len(stored) == 1

    # A second drop with nothing new: history overlap must not duplicate anything.
    _drop(page)
    _restore(page)
    again = rendered(page)
    assert [m["id"] for m in again] == [m["id"] for m in msgs] + [m["id"] for m in again[len(msgs):]]
    assert len({m["id"] for m in again if m["id"]}) == len([m for m in again if m["id"]])


def test_history_on_reload_and_second_device(browser, context, web_desk):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    page.fill("#zw-input", "我想咨询公积金提取")
    page.press("#zw-input", "Enter")
    page.locator(".zw-from-system", has_text="受理编号").wait_for()
    before = rendered(page)

    page.reload()
    wait_ready(page)
    page.locator(".zw-from-citizen", has_text="公积金提取").wait_for()
    assert [m["id"] for m in rendered(page)] == [m["id"] for m in before]

    # Same identity in a second tab: one conversation, live in both.
    tab2 = context.new_page()
    tab2.goto(f"{web_desk.url}/widget")
    wait_ready(tab2)
    tab2.locator(".zw-from-citizen", has_text="公积金提取").wait_for()
    tab2.fill("#zw-input", "第二个标签页发的消息")
    tab2.press("#zw-input", "Enter")
    page.locator(".zw-from-citizen", has_text="第二个标签页发的消息").wait_for()

    # A second device (fresh browser storage) takes the identity with a one-time code.
    page.click("#zw-more")
    page.click("#zw-xfer-get")
    page.wait_for_function("/^\\d{6}$/.test(document.querySelector('#zw-xfer-code').textContent)")
    code = page.inner_text("#zw-xfer-code")
    other = browser.new_context(locale="zh-CN")
    try:
        phone = other.new_page()
        phone.goto(f"{web_desk.url}/widget")
        wait_ready(phone)
        assert phone.locator(".zw-from-citizen", has_text="公积金提取").count() == 0
        phone.click("#zw-more")
        phone.fill("#zw-xfer-input", code)
        phone.click("#zw-xfer-use")
        phone.locator(".zw-from-citizen", has_text="公积金提取").wait_for()
        phone.locator(".zw-from-citizen", has_text="第二个标签页发的消息").wait_for()
        # The code is single-use.
        phone.fill("#zw-xfer-input", code)
        phone.click("#zw-xfer-use")
        phone.locator("#zw-device-msg", has_text="验证码无效").wait_for()
    finally:
        other.close()
