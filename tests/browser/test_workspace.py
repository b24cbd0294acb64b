"""The agent workspace in Chromium: the case header through accept, close and rating; layout at
a phone's width and on a 1366 px laptop."""
from __future__ import annotations

import pytest

from .agent_api import AgentApi
from .staff_page import login as _login
from .widget_page import hand_off, open_widget

pytestmark = pytest.mark.browser


def test_header_keeps_the_citizen_through_accept_close_and_shows_the_rating(  # type: ignore[no-untyped-def]
        context, web_desk, demo_users, artifacts):
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    desk = context.new_page()
    desk.set_viewport_size({"width": 1366, "height": 768})
    _login(desk, f"{web_desk.url}/agent", "agent", demo_users["agent"])
    desk.locator(".case-item", has_text=tracking).click()
    meta = desk.locator("#conv-meta")
    meta.filter(has_text="市民：市民").wait_for()
    name = meta.inner_text().split("市民：")[1].split("\u3000")[0]
    assert name.startswith("市民")

    desk.click("#accept")
    desk.locator("#conv-title", has_text="人工客服处理中").wait_for()
    assert f"市民：{name}" in meta.inner_text() and "坐席：王晓明" in meta.inner_text()

    desk.click("#close-open")
    desk.click("#close-form button[type=submit]")
    desk.locator("#conv-title", has_text="已办结").wait_for()
    assert f"市民：{name}" in meta.inner_text() and "坐席：王晓明" in meta.inner_text()
    desk.locator("#conv-rating", has_text="尚未评价").wait_for()

    card = citizen.locator(".zw-rating").last
    card.locator("button[data-score='2']").click()
    card.locator("textarea").fill("等待时间太长")
    card.locator(".zw-btn-primary").click()
    desk.locator("#conv-rating", has_text="不满意").wait_for()
    assert "等待时间太长" in desk.inner_text("#conv-rating")

    # Opened again later from the 已结束 tab: the rating is still there.
    desk.reload()
    desk.click(".tab[data-tab=closed]")
    desk.locator(".case-item", has_text=tracking).click()
    desk.locator("#conv-rating", has_text="不满意").wait_for()
    assert desk.locator(".case-item", has_text=tracking).locator(".rating-tag").inner_text() == "不满意"
    desk.locator("#transcript .msg.system", has_text="请您对本次服务进行评价").wait_for()
    desk.locator("#transcript .msg.citizen", has_text="（提交了评价）不满意：等待时间太长").wait_for()
    desk.screenshot(path=str(artifacts / "workspace-1366-closed-rated.png"))


def test_manager_closing_a_queued_case_is_not_shown_as_its_agent(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    desk = context.new_page()
    _login(desk, f"{web_desk.url}/agent", "manager", demo_users["manager"])
    desk.locator(".case-item", has_text=tracking).click()
    desk.click("#close-open")
    desk.click("#close-form button[type=submit]")
    desk.locator("#conv-title", has_text="已办结").wait_for()
    assert "坐席：" not in desk.inner_text("#conv-meta")
    assert "市民：市民" in desk.inner_text("#conv-meta")


def _tab_lines(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate("""() => [...document.querySelectorAll('.tab')].filter(t => !t.hidden).map(t => {
        const r = t.getBoundingClientRect(), lh = parseFloat(getComputedStyle(t).lineHeight);
        return { text: t.innerText, top: r.top, lines: Math.round((t.scrollHeight - 20) / lh),
                 overflow: t.scrollWidth > t.clientWidth + 1 }; })""")


def test_layout_on_a_laptop_and_on_a_phone(context, web_desk, demo_users, artifacts):  # type: ignore[no-untyped-def]
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    citizen.fill("#zw-input", "我的社保卡丢了，需要补办，请问要带什么材料？")
    citizen.press("#zw-input", "Enter")
    manager = AgentApi(web_desk.url, web_desk.login("manager", demo_users["manager"]))
    manager.case_by_tracking(tracking)

    desk = context.new_page()
    desk.set_viewport_size({"width": 1366, "height": 768})
    _login(desk, f"{web_desk.url}/agent", "manager", demo_users["manager"])
    desk.locator(".case-item", has_text=tracking).click()
    desk.locator("#transcript .msg.citizen", has_text="社保卡").wait_for()
    tabs = _tab_lines(desk)
    assert len(tabs) == 4 and len({t["top"] for t in tabs}) == 1, tabs
    assert all(t["lines"] == 1 and not t["overflow"] for t in tabs), tabs
    desk.screenshot(path=str(artifacts / "workspace-1366-manager.png"))

    desk.set_viewport_size({"width": 390, "height": 844})
    desk.locator("#transcript .msg.citizen", has_text="社保卡").wait_for()
    widths = desk.evaluate("""() => ({ conv: document.querySelector('#conv').getBoundingClientRect().width,
        transcript: document.querySelector('#transcript').getBoundingClientRect().height,
        page: document.documentElement.scrollWidth })""")
    assert widths["conv"] >= 370 and widths["page"] <= 390, widths
    assert widths["transcript"] >= 200, widths
    desk.screenshot(path=str(artifacts / "workspace-390.png"), full_page=True)


def _mark_undelivered(pg_url: str, message_id: int, reason: str) -> None:
    """What the mini-program sender stores when WeChat refuses a reply (channels/miniprogram_outbound)."""
    import asyncio
    import threading

    import asyncpg

    async def update() -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("UPDATE messages SET delivery = 'undelivered', delivery_error = $1 WHERE id = $2",
                               reason, message_id)
        finally:
            await conn.close()

    # Playwright's sync API owns this thread's event loop.
    worker = threading.Thread(target=lambda: asyncio.run(update()))
    worker.start()
    worker.join(30)


def test_a_reply_the_citizen_never_got_is_marked_on_the_message(  # type: ignore[no-untyped-def]
        context, web_desk, demo_users, pg_url):
    import socketio

    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    desk = context.new_page()
    _login(desk, f"{web_desk.url}/agent", "agent", demo_users["agent"])
    desk.locator(".case-item", has_text=tracking).click()
    desk.click("#accept")
    desk.locator("#conv-title", has_text="人工客服处理中").wait_for()
    api = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = api.case_by_tracking(tracking, status="assigned")
    delivered = api.say(case["id"], "您好，材料清单我发给您")
    refused = api.say(case["id"], "请问还有其他问题吗")
    desk.locator("#transcript .msg.agent", has_text="请问还有其他问题吗").wait_for()
    assert desk.locator("#transcript .delivery-error").count() == 0

    # The channel gives up on one reply: stored state first, then the event every worker sends
    # through the desk's socket.io Redis channel to the agent on the case.
    reason = "48小时会话窗口已关闭，无法再发送客服消息（45015）"
    _mark_undelivered(pg_url, refused["id"], reason)
    bus = socketio.RedisManager(web_desk.redis_url, channel=f"{web_desk.redis_prefix}:socketio", write_only=True)
    bus.emit("message_delivery", {"case_id": case["id"], "message_id": refused["id"], "delivery": "undelivered",
                                  "delivery_error": reason}, room=f"agent:{case['agent_id']}", namespace="/agent")
    flagged = desk.locator(f'#transcript .msg[data-id="{refused["id"]}"] .delivery-error')
    flagged.wait_for()
    assert "未送达市民" in flagged.inner_text() and "45015" in flagged.inner_text()
    assert desk.locator(f'#transcript .msg[data-id="{delivered["id"]}"] .delivery-error').count() == 0

    # Opened again later, the mark comes from the stored record.
    desk.reload()
    desk.click(".tab[data-tab=mine]")
    desk.locator(".case-item", has_text=tracking).click()
    desk.locator(f'#transcript .msg[data-id="{refused["id"]}"] .delivery-error', has_text="45015").wait_for()
    assert desk.locator("#transcript .delivery-error").count() == 1


def test_an_urgent_case_is_flagged_and_its_number_lines_up_with_the_others(  # type: ignore[no-untyped-def]
        browser, context, web_desk, demo_users, artifacts):
    normal = hand_off(open_widget(context, web_desk.url))
    other = browser.new_context(locale="zh-CN", bypass_csp=True)
    other.set_default_timeout(20_000)
    try:
        citizen = open_widget(other, web_desk.url)
        citizen.fill("#zw-input", "我不想活了")  # a citizen in crisis: handed to a person as urgent
        citizen.press("#zw-input", "Enter")
        urgent = hand_off_tracking(citizen)
        desk = context.new_page()
        desk.set_viewport_size({"width": 1280, "height": 800})
        _login(desk, f"{web_desk.url}/agent", "manager", demo_users["manager"])
        urgent_row = desk.locator(".case-item", has_text=urgent)
        normal_row = desk.locator(".case-item", has_text=normal)
        urgent_row.locator(".urgent-tag").wait_for()
        normal_row.wait_for()
        tag = urgent_row.locator(".urgent-tag")
        assert tag.is_visible() and tag.inner_text() == "紧急"
        assert normal_row.locator(".urgent-tag").count() == 0
        order = desk.locator(".case-item strong").all_inner_texts()
        assert order.index(urgent) < order.index(normal), order  # waits ahead of the other
        box = {name: row.locator("strong", has_text=no).bounding_box()
               for name, row, no in (("urgent", urgent_row, urgent), ("normal", normal_row, normal))}
        assert box["urgent"] and box["normal"]
        assert abs(box["urgent"]["x"] - box["normal"]["x"]) < 0.5, box  # the numbers line up
        tag_box = tag.bounding_box()
        assert tag_box and tag_box["width"] >= 24 and tag_box["height"] >= 14, tag_box
        colour = tag.evaluate("t => getComputedStyle(t).backgroundColor")
        assert colour == "rgb(168, 7, 26)", colour  # the red of the case title's 【紧急】
        desk.screenshot(path=str(artifacts / "workspace-1280-urgent.png"))
        manager = AgentApi(web_desk.url, web_desk.login("manager", demo_users["manager"]))
        for no in (urgent, normal):  # not left waiting for later tests
            manager.close(manager.case_by_tracking(no)["id"])
    finally:
        other.close()


def hand_off_tracking(page) -> str:  # type: ignore[no-untyped-def]
    """The tracking number the widget shows once the desk has handed the citizen to a person."""
    from .widget_page import TRACKING_RE

    bubble = page.locator(".zw-from-system .zw-bubble", has_text="受理编号").last
    bubble.wait_for()
    m = TRACKING_RE.search(bubble.inner_text())
    assert m, bubble.inner_text()
    return m.group(0)
