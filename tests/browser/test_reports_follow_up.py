"""The reports page's 整改跟进 section and 工单明细 list with its CSV export, in Chromium."""
from __future__ import annotations

import csv
import io

import pytest

from .agent_api import AgentApi
from .staff_page import login as _login
from .widget_page import hand_off, open_widget

pytestmark = pytest.mark.browser


def _served_and_rated(context, web_desk, demo_users, score: str, comment: str) -> str:  # type: ignore[no-untyped-def]
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    agent = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    case = agent.case_by_tracking(tracking)
    agent.accept(case["id"])
    agent.say(case["id"], "您好，请问有什么可以帮您？")
    agent.close(case["id"], "已答复")
    card = citizen.locator(".zw-rating").last
    card.locator(f"button[data-score='{score}']").click()
    card.locator("textarea").fill(comment)
    card.locator(".zw-btn-primary").click()
    citizen.locator(".zw-from-system", has_text="感谢您的评价").wait_for()
    citizen.close()
    return tracking


def test_manager_follows_up_a_bad_rating_on_the_reports_page(context, web_desk, demo_users, artifacts):  # type: ignore[no-untyped-def]
    tracking = _served_and_rated(context, web_desk, demo_users, "1", "一直没人回答，请回电13912345678")
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    row = page.locator("#fu-rows tr", has_text=tracking)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == tracking and cells[2] == "王晓明" and cells[3] == "非常不满意" and cells[5] == "待整改"
    assert "139****5678" in cells[4] and "13912345678" not in page.content()
    page.wait_for_function("/^\\d+$/.test(document.querySelector('#n-pending').textContent)")
    pending_before = int(page.inner_text("#n-pending"))
    assert pending_before >= 1
    page.locator("#case-rows tr", has_text=tracking).wait_for()
    page.screenshot(path=str(artifacts / "reports-follow-up-1366.png"), full_page=True)

    row.locator("button", has_text="记录整改").click()
    form = page.locator("tr.fu-form")
    form.locator("button[type=submit]").click()  # empty note: refused in the page
    form.locator(".error-line", has_text="请填写").wait_for()
    form.locator("textarea").fill("已约谈当事坐席，并电话回访市民致歉")
    page.screenshot(path=str(artifacts / "reports-rectify-form.png"))
    form.locator("button[type=submit]").click()
    done = page.locator("#fu-rows tr", has_text=tracking)
    done.locator(".state-done", has_text="已整改").wait_for()
    assert "已约谈当事坐席" in done.inner_text() and "张主任" in done.inner_text()
    assert int(page.inner_text("#n-pending")) == pending_before - 1

    page.click("#follow-up .chip[data-state=done]")
    page.locator("#fu-rows tr", has_text=tracking).wait_for()
    page.locator("#follow-up").screenshot(path=str(artifacts / "reports-follow-up-done.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll in their box
    page.screenshot(path=str(artifacts / "reports-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("#follow-up .chip[data-state=pending]")
    page.locator("#fu-rows tr").first.wait_for()
    assert page.locator("#fu-rows tr", has_text=tracking).count() == 0

    # The tracking number opens the conversation in the workspace.
    with page.expect_popup() as popup:
        page.locator("#case-rows tr", has_text=tracking).locator("a").click()
    ws = popup.value
    ws.locator("#conv-title", has_text=tracking).wait_for()
    ws.locator("#conv-rating", has_text="非常不满意").wait_for()


def test_case_list_and_its_csv_export(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    tracking = _served_and_rated(context, web_desk, demo_users, "4", "讲解清楚，身份证110101199003071234已办好")
    page = context.new_page()
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    row = page.locator("#case-rows tr", has_text=tracking)
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "已办结" and cells[3] == "王晓明" and cells[6] == "满意"
    assert page.inner_text("#cases-total").startswith("共 ")
    with page.expect_download() as dl:
        page.click("#export-cases")
    assert dl.value.suggested_filename.endswith(".csv")
    raw = open(dl.value.path(), "rb").read()
    assert raw.startswith("\ufeff".encode())
    rows = {r[0]: r for r in csv.reader(io.StringIO(raw.decode("utf-8-sig")))}
    assert rows[tracking][9] == "满意" and "110101199003071234" not in raw.decode("utf-8-sig")
    assert "1101**********1234" in rows[tracking][10] or "110***" in rows[tracking][10]


def test_summary_csv_shows_figures_as_the_page_does(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    _served_and_rated(context, web_desk, demo_users, "2", "办理慢")
    page = context.new_page()
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    page.wait_for_function("/%$/.test(document.querySelector('#n-satisfaction').textContent)")
    shown_rate, shown_avg = page.inner_text("#n-satisfaction"), page.inner_text("#n-average")
    with page.expect_download() as dl:
        page.click("#export")
    rows = dict((r[0], r[1]) for r in csv.reader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read()))
                if len(r) == 2)
    # 25.0% on the page is 25.0% in the file (Excel reads it as a percentage), never 0.25.
    assert rows["满意率"] == shown_rate and rows["满意率"].endswith("%")
    assert rows["平均分"] == shown_avg and len(shown_avg.split(".")[1]) == 2


def test_manager_reads_the_audit_log_on_the_reports_page(context, web_desk, demo_users, artifacts):  # type: ignore[no-untyped-def]
    tracking = _served_and_rated(context, web_desk, demo_users, "5", "很好")
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    rows = page.locator("#audit-rows tr")
    # The agent's actions on the case, by name, newest first.
    closed = rows.filter(has_text="结束工单").filter(has_text=tracking)
    closed.wait_for()
    assert "王晓明（agent，坐席）" in closed.first.inner_text()
    accepted = rows.filter(has_text="接入工单").filter(has_text=tracking)
    assert accepted.count() == 1
    texts = rows.all_inner_texts()
    assert texts.index(closed.first.inner_text()) < texts.index(accepted.first.inner_text())
    # Filtered to one case's target and the case actions.
    page.fill("#audit-target", tracking)
    page.select_option("#audit-action", "case.")
    page.click("#audit-filter button[type=submit]")
    page.locator("#audit-rows tr", has_text="接入工单").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('#audit-rows tr')]"
                           ".every(r => r.innerText.includes('工单') || r.innerText.includes('查看对话'))")
    assert all(tracking in t for t in page.locator("#audit-rows tr").all_inner_texts())
    page.locator("#audit-panel").screenshot(path=str(artifacts / "reports-audit-log.png"))
    # Nothing matches: said so.
    page.fill("#audit-actor", "no-such-user")
    page.click("#audit-filter button[type=submit]")
    page.locator("#audit-rows tr", has_text="没有符合条件的记录").wait_for()
