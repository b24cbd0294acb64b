"""The agent workspace and the manager reports page, driven in Chromium; and the embed script."""
from __future__ import annotations

import csv
import io

import pytest

from .agent_api import AgentApi
from .staff_page import login as _login
from .widget_page import hand_off, host_page, open_widget

pytestmark = pytest.mark.browser


def test_agent_workspace_serves_a_citizen(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    citizen = open_widget(context, web_desk.url)
    citizen.fill("#zw-input", "我想问一下居住证怎么办理")
    citizen.press("#zw-input", "Enter")
    tracking = hand_off(citizen) if citizen.locator(".zw-from-system", has_text="受理编号").count() == 0 else \
        citizen.locator(".zw-from-system", has_text="受理编号").last.inner_text().split("受理编号 ")[1][:15]

    desk = context.new_page()
    _login(desk, f"{web_desk.url}/agent", "agent2", demo_users["agent2"])
    item = desk.locator(".case-item", has_text=tracking)
    item.wait_for()
    assert item.locator("[data-channel]").inner_text() == "网页"
    item.click()
    desk.locator("#transcript .msg.citizen", has_text="居住证").wait_for()
    assert desk.locator("#transcript .msg.bot-part").count() >= 1  # the part before handoff is marked
    desk.click("#accept")
    citizen.locator(".zw-from-system", has_text="已接入").wait_for()
    desk.fill("#reply", "您好，办理居住证需要身份证和居住证明。")
    desk.press("#reply", "Enter")
    citizen.locator(".zw-from-agent", has_text="居住证明").wait_for()
    citizen.fill("#zw-input", "好的，谢谢")
    citizen.press("#zw-input", "Enter")
    desk.locator("#transcript .msg.citizen", has_text="好的，谢谢").wait_for()
    citizen.locator(".zw-from-citizen .zw-read").last.wait_for()  # the open case marks it read
    desk.click("#close-open")
    desk.fill("#close-note", "已告知材料")
    desk.click("#close-form button[type=submit]")
    citizen.locator(".zw-rating").wait_for()
    desk.locator("#conv-title", has_text="已办结").wait_for()


def test_second_agent_sees_case_taken(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    citizen = open_widget(context, web_desk.url)
    tracking = hand_off(citizen)
    desk = context.new_page()
    _login(desk, f"{web_desk.url}/agent", "agent2", demo_users["agent2"])
    desk.locator(".case-item", has_text=tracking).click()
    other = AgentApi(web_desk.url, web_desk.login("agent", demo_users["agent"]))
    other.accept(other.case_by_tracking(tracking)["id"])
    desk.click("#accept") if desk.locator("#accept").is_visible() else None
    desk.wait_for_function("document.querySelector('#accept').hidden")


def test_reports_page_chart_and_csv(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = context.new_page()
    _login(page, f"{web_desk.url}/reports", "manager", demo_users["manager"])
    page.locator("#chart svg rect.bar").first.wait_for(state="attached")
    assert page.locator("#chart svg rect.bar").count() == 5
    assert int(page.inner_text("#n-conversations")) >= 1
    with page.expect_download() as dl:
        page.click("#export")
    text = open(dl.value.path(), encoding="utf-8-sig").read()
    rows = dict((r[0], r[1]) for r in csv.reader(io.StringIO(text)) if len(r) == 2)
    assert rows["咨询会话"] == page.inner_text("#n-conversations")
    assert "评价：非常满意（5分）" in rows


def test_reports_page_refuses_agents(context, web_desk, demo_users):  # type: ignore[no-untyped-def]
    page = context.new_page()
    _login(page, f"{web_desk.url}/reports", "agent", demo_users["agent"])
    page.locator(".login-error", has_text="管理人员").wait_for()
    assert page.locator("#report").is_hidden()


def test_embed_script_on_another_site(context, web_desk, tmp_path):  # type: ignore[no-untyped-def]
    with host_page(tmp_path, web_desk.url) as url:
        page = context.new_page()
        page.goto(url)
        page.click("#zw-embed-launcher")
        frame = page.frame_locator("#zw-embed-frame")
        frame.locator("#zw-input").fill("你好")
        frame.locator("#zw-send").click()
        frame.locator(".zw-from-system", has_text="受理编号").wait_for()
