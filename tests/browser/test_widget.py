"""Our citizen widget in Chromium: normal and elder mode, the handoff flow, accessibility rules."""
from __future__ import annotations

import re

import pytest

from .agent_api import AgentApi
from .conftest import no_dialogs
from .widget_page import MEASURE, NO_RECOGNITION, SPEECH_SPY, TRACKING_RE, hand_off, open_widget, wait_ready

pytestmark = pytest.mark.browser


def _check_rules(data: dict, *, min_text: float, min_target: float) -> None:
    assert data["body"]["size"] >= min_text
    assert data["body"]["line"] / data["body"]["size"] >= 1.3
    assert data["texts"], "nothing visible was measured"
    for t in data["texts"]:
        assert t["size"] >= min_text, t
        assert t["line"] and t["line"] / t["size"] >= 1.3, t
        assert t["contrast"] >= 4.5, t
    for box in data["targets"]:
        assert box["w"] >= min_target and box["h"] >= min_target, box


def test_widget_normal_and_elder_mode(context, web_desk, demo_users, artifacts):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url, init_scripts=(SPEECH_SPY,))
    dialogs = no_dialogs(page)
    page.fill("#zw-input", "你好，我想咨询社保卡补办")
    page.click("#zw-send")
    bubble = page.locator(".zw-from-system", has_text="受理编号")
    bubble.wait_for()
    tracking = TRACKING_RE.search(bubble.inner_text()).group(0)  # type: ignore[union-attr]
    page.wait_for_function("document.querySelector('#zw-status').textContent.includes('排队')")

    normal = page.evaluate(MEASURE)
    _check_rules(normal, min_text=16, min_target=40)
    page.screenshot(path=str(artifacts / "widget-normal.png"), full_page=True)

    page.click("#zw-elder")
    assert page.get_attribute("#zw-elder", "aria-pressed") == "true"
    elder = page.evaluate(MEASURE)
    _check_rules(elder, min_text=18, min_target=60)
    page.screenshot(path=str(artifacts / "widget-elder.png"), full_page=True)

    # Remembered across a reload, and the history is back.
    page.reload()
    wait_ready(page)
    assert page.evaluate("document.body.classList.contains('zw-elder')")
    page.locator(".zw-from-citizen", has_text="社保卡补办").wait_for()

    # Read-aloud: in elder mode new answers are spoken; each answer also has a 朗读 button.
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    agent.accept(agent.case_by_tracking(tracking)["id"])
    page.wait_for_function("window.__spoken.some(t => t.includes('已接入'))")
    page.locator(".zw-speak").first.click()
    assert len(page.evaluate("window.__spoken")) >= 2
    assert dialogs == []


def test_new_citizen_sees_a_welcome_with_popular_topics(context, web_desk):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    welcome = page.locator(".zw-welcome")
    welcome.wait_for()
    assert "政务服务智能客服" in welcome.inner_text()
    titles = welcome.locator(".zw-btn").all_inner_texts()
    assert "社保卡补办" in titles and len(titles) == 4
    page.reload()
    wait_ready(page)
    assert page.locator(".zw-welcome").count() == 1  # still no history: still welcomed, once


def test_voice_input_fallback_is_inline(context, web_desk):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url, init_scripts=(NO_RECOGNITION,))
    dialogs = no_dialogs(page)
    page.click("#zw-mic")
    page.wait_for_function("document.querySelector('#zw-hint').textContent.includes('不支持语音输入')")
    assert dialogs == []


def test_handoff_queue_agent_typing_read_and_rating(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    tracking = hand_off(page)
    page.wait_for_function("document.querySelector('#zw-status').textContent.includes('排队')")
    page.fill("#zw-input", "我的社保卡丢了")
    page.press("#zw-input", "Enter")
    page.locator(".zw-from-citizen .zw-state", has_text="已送达").last.wait_for()

    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = agent.case_by_tracking(tracking)
    agent.accept(case["id"])
    page.wait_for_function("document.querySelector('#zw-status').textContent.includes('王晓明') || "
                           "document.querySelector('#zw-status').textContent.includes('为您服务')")
    status = page.inner_text("#zw-status")
    assert "人工客服" in status

    agent.typing(case["id"])
    page.locator("#zw-typing", has_text="正在输入").wait_for()

    citizen_ids = [m["id"] for m in agent.messages(case["id"]) if m["sender"] == "citizen"]
    agent.read(case["id"], max(citizen_ids))
    page.locator(".zw-from-citizen .zw-read", has_text="已读").first.wait_for()

    agent.say(case["id"], "您好，请问丢失的是实体卡吗？")
    page.locator(".zw-from-agent", has_text="实体卡").wait_for()
    assert "人工客服" in page.locator(".zw-from-agent .zw-who").last.inner_text()

    agent.close(case["id"], "已解答")
    card = page.locator(".zw-rating").last
    card.wait_for()
    assert card.locator("button[data-score]").count() == 5
    assert "最多500字" in card.inner_text() and card.locator("textarea").get_attribute("maxlength") == "500"
    # A comment the desk refuses as too long (another client could send one) leaves the card
    # usable with what was written, and says why; nothing is rated yet.
    card.locator("button[data-score='4']").click()
    card.locator("textarea").evaluate("t => t.maxLength = 5000")
    card.locator("textarea").fill("讲" * 501)
    card.locator(".zw-btn-primary").click()
    page.locator(".zw-from-system .zw-bubble", has_text="尚未提交").wait_for()
    card.locator(".zw-rated", has_text="精简").wait_for()
    assert card.locator("textarea").is_enabled() and len(card.locator("textarea").input_value()) == 501
    assert card.locator(".zw-btn-primary").is_enabled()
    card.locator("textarea").fill("讲解清楚")
    card.locator(".zw-btn-primary").click()
    page.locator(".zw-from-system", has_text="感谢您的评价").wait_for()
    rated = [m for m in agent.messages(case["id"]) if m["sender"] == "citizen" and m["text"].startswith("/rate")]
    assert rated and '"score":4' in rated[-1]["text"].replace(" ", "")
    assert f'"case":"{tracking}"' in rated[-1]["text"].replace(" ", "")  # the card names its case
    assert rated[-1]["metadata"]["display_text"] == "评价：满意，讲解清楚"
    # Accepted: the card says so (the note about the refused comment is gone) and is closed,
    # with the accepted score shown; the same after a reload, from the history.
    for reloaded in (False, True):
        if reloaded:
            page.reload()
            wait_ready(page)
            card = page.locator(".zw-rating").last
            card.locator(".zw-rated", has_text="已评价").wait_for()
        note = card.locator(".zw-rated").inner_text()
        assert "尚未提交" not in note and "精简" not in note, note
        assert "已提交评价" in note or "已评价" in note, note
        assert card.locator(".zw-rated").count() == 1
        assert card.locator("button[data-score='4']").get_attribute("aria-pressed") == "true"
        assert card.locator("textarea").is_disabled() and card.locator(".zw-btn-primary").is_disabled()


def test_upload_image_and_reject_fake(context, web_desk, demo_users, tmp_path):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    tracking = hand_off(page)
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = agent.case_by_tracking(tracking)
    agent.accept(case["id"])
    png = tmp_path / "证件照.png"
    png.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                                  "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    page.set_input_files("#zw-file", str(png))
    page.locator(".zw-from-citizen img").wait_for()
    msgs = [m for m in agent.messages(case["id"]) if m["kind"] == "image"]
    assert msgs and msgs[-1]["attachment"]["name"] == "证件照.png"
    url = msgs[-1]["attachment"]["url"]
    assert url.startswith("/uploads/") and len(url) > 40
    r = agent.http.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"

    fake = tmp_path / "伪装.png"
    fake.write_bytes(b"<script>alert(1)</script>")
    page.set_input_files("#zw-file", str(fake))
    page.wait_for_function("document.querySelector('#zw-hint').textContent.includes('只支持')")


# Where a message node sits in the visible part of the message list, and whether the list is at its end.
VIEW = """(sel) => { const c = document.querySelector('#zw-log'), nodes = document.querySelectorAll(sel);
  const n = nodes[nodes.length - 1], cr = c.getBoundingClientRect(), nr = n.getBoundingClientRect();
  return { top: nr.top - cr.top, height: nr.height, view: c.clientHeight,
           atEnd: c.scrollTop + c.clientHeight >= c.scrollHeight - 2 }; }"""


def test_a_long_answer_is_shown_from_its_start(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = open_widget(context, web_desk.url)
    tracking = hand_off(page)
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = agent.case_by_tracking(tracking)
    agent.accept(case["id"])

    agent.say(case["id"], "您好，请讲。")
    page.locator(".zw-from-agent", has_text="请讲").wait_for()
    assert page.evaluate(VIEW, ".zw-from-agent")["atEnd"]  # a short answer: the list is at its end

    line = "办理社会保障卡补领需要本人有效身份证件，到任一合作银行网点办理。"
    long_answer = "\n".join(f"第{i}项：{line}" for i in range(1, 41))
    for mode in ("normal", "elder"):
        if mode == "elder":
            page.click("#zw-elder")
        sent = agent.say(case["id"], f"【{mode}】" + long_answer)
        page.locator(".zw-from-agent", has_text=f"【{mode}】").wait_for()
        view = page.evaluate(VIEW, ".zw-from-agent")
        assert view["height"] > view["view"], view  # taller than the list: the case this is about
        assert 0 <= view["top"] <= 40, view          # its first line is in view, not its last
        assert not view["atEnd"], view
        # What follows in the same turn (here a short note; for the bot, related-topic buttons)
        # does not scroll the start of the long answer away.
        agent.say(case["id"], f"以上供参考（{mode}）")
        page.locator(".zw-from-agent", has_text=f"以上供参考（{mode}）").wait_for()
        view = page.evaluate(VIEW, f'.zw-msg[data-id="{sent["id"]}"]')
        assert 0 <= view["top"] <= 40, view
        # The citizen's next message takes the list to the end again.
        page.fill("#zw-input", f"好的，我看一下（{mode}）")
        page.press("#zw-input", "Enter")
        page.locator(".zw-from-citizen", has_text=f"我看一下（{mode}）").wait_for()
        page.wait_for_function("(() => { const c = document.querySelector('#zw-log');"
                               " return c.scrollTop + c.clientHeight >= c.scrollHeight - 2; })()")


# Where each header control's text sits: one top per rendered line (a Range's client rects).
HEADER_LAYOUT = """
() => {
  function lines(el) { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; }
  const header = document.querySelector('.zw-header').getBoundingClientRect();
  return {
    header: header.height, viewport: window.innerHeight,
    buttons: [...document.querySelectorAll('.zw-header button')].map(b => ({ text: b.textContent.trim(),
      name: b.getAttribute('aria-label') || b.textContent.trim(), lines: lines(b),
      w: b.getBoundingClientRect().width, h: b.getBoundingClientRect().height })),
    title: lines(document.querySelector('.zw-header h1')),
    status: lines(document.getElementById('zw-status')),
    statusText: document.getElementById('zw-status').textContent,
    statusClipped: document.getElementById('zw-status').scrollWidth > document.getElementById('zw-status').clientWidth,
    bubble: parseFloat(getComputedStyle(document.querySelector('.zw-bubble')).fontSize),
  };
}
"""


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_header_fits_a_small_phone(browser, web_desk, demo_users, artifacts, elder):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 640}, bypass_csp=True)
    ctx.set_default_timeout(20_000)
    try:
        page = open_widget(ctx, web_desk.url)
        if elder:
            page.click("#zw-elder")
            assert page.get_attribute("#zw-elder", "aria-pressed") == "true"
        tracking = hand_off(page)
        page.wait_for_function("document.querySelector('#zw-status').textContent.includes('排队')")
        layouts = [page.evaluate(HEADER_LAYOUT)]
        agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
        case_id = agent.case_by_tracking(tracking)["id"]
        agent.accept(case_id)
        page.wait_for_function("document.querySelector('#zw-status').textContent.includes('为您服务')")
        layouts.append(page.evaluate(HEADER_LAYOUT))
        page.screenshot(path=str(artifacts / f"widget-360-{'elder' if elder else 'normal'}.png"))
        # After the case is closed (the longest status) the header still fits.
        agent.close(case_id)
        page.locator(".zw-rating").last.wait_for()
        page.wait_for_function("document.querySelector('#zw-status').textContent.includes('结束')")
        layouts.append(page.evaluate(HEADER_LAYOUT))
        page.screenshot(path=str(artifacts / f"widget-360-{'elder' if elder else 'normal'}-closed.png"))
        for got in layouts:
            for b in got["buttons"]:
                assert b["lines"] == 1, got  # never 标/准/模/式 one character a line
                assert b["w"] >= (60 if elder else 40) and b["h"] >= (60 if elder else 40), b
            assert got["title"] == 1 and got["status"] == 1, got
            assert not got["statusClipped"], got  # the whole status is read, not cut off
            # The chat keeps the screen: at most 17% of it in elder mode (its 60 px buttons), 1/7 otherwise.
            assert got["header"] <= got["viewport"] * (0.17 if elder else 1 / 7), got
            assert got["bubble"] >= (20 if elder else 16), got  # the conversation's text stays large
        names = {b["name"] for b in layouts[-1]["buttons"]}
        assert any("长辈" in n or "标准" in n for n in names) and any("换设备" in n for n in names), names
    finally:
        ctx.close()


# The widget also asks for its state every 10 s while queued; stopped here, so only what the desk
# says live can move the header.
NO_STATE_POLL = """
(() => { const orig = window.setInterval;
  window.setInterval = function (fn, ms) { return ms === 10000 ? 0 : orig.apply(this, arguments); }; })();
"""


def _place(status: str) -> int:
    if "下一位" in status:
        return 1
    m = re.search(r"前面还有 (\d+) 位", status)
    assert m, status
    return int(m.group(1)) + 1


def test_a_citizen_in_crisis_while_waiting_sees_the_new_place_at_once(  # type: ignore[no-untyped-def]
        browser, context, web_desk, demo_users):
    other = browser.new_context(locale="zh-CN", bypass_csp=True)
    other.set_default_timeout(20_000)
    try:
        hand_off(open_widget(other, web_desk.url))  # another citizen waits ahead
        page = open_widget(context, web_desk.url, init_scripts=(NO_STATE_POLL,))
        tracking = hand_off(page)
        page.wait_for_function("document.querySelector('#zw-status').textContent.includes('排队')")
        before = _place(page.inner_text("#zw-status"))
        assert before >= 2
        page.fill("#zw-input", "等不下去了，我不想活了")
        page.press("#zw-input", "Enter")
        reply = page.locator(".zw-from-system .zw-bubble", has_text="优先安排")
        reply.wait_for()
        assert "12356" in reply.inner_text()
        manager = AgentApi(web_desk.url, web_desk.login("manager", demo_users["manager"]))
        case = manager.case_by_tracking(tracking)
        assert case["urgent"] and case["queue_position"] < before, case
        pos = case["queue_position"]
        expected = "排队中：您是下一位" if pos <= 1 else f"排队中：您前面还有 {pos - 1} 位"
        page.wait_for_function("(t) => document.querySelector('#zw-status').textContent === t", arg=expected,
                               timeout=3000)
        assert ("您是下一位" if pos <= 1 else f"前面还有 {pos - 1} 位") in reply.inner_text()
        manager.close(case["id"])  # not left urgent at the head of the queue for later tests
    finally:
        other.close()
