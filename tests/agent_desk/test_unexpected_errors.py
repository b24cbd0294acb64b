"""An unexpected exception anywhere in an HTTP request is a polite Chinese 500 with a request
id, logged as one JSON line with the traceback and personal data masked, and never shows the
exception's text to the client. A real desk process (with failing test routes) on the real
PostgreSQL and Redis."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agent_desk.errors import INTERNAL_ERROR_MESSAGE

from . import desk_process
from .desk_process import DeskProcess

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(scope="module")
def desk(pg_url: str, redis_url: str, service_token: str) -> Iterator[DeskProcess]:
    proc = desk_process.start(pg_url, redis_url, service_token, name="desk-faulty",
                              asgi="tests.agent_desk.faulty_desk:app")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def http(desk: DeskProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=30) as client:
        yield client


def log_records(desk: DeskProcess, request_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The desk's log lines for ``request_id``; the 500 can reach us before its line is written."""
    deadline = time.monotonic() + timeout
    while True:
        records = [json.loads(line) for line in desk.log.read_text(errors="replace").splitlines()
                   if line.startswith("{") and request_id in line]
        if records or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def assert_polite_500(r: httpx.Response) -> str:
    assert r.status_code == 500
    body = r.json()
    assert body == {"error": INTERNAL_ERROR_MESSAGE, "request_id": body["request_id"]}
    assert r.headers["x-request-id"] == body["request_id"]
    assert r.headers["x-content-type-options"] == "nosniff"  # the usual headers still apply
    return str(body["request_id"])


def test_a_failing_view_answers_politely_and_logs_the_traceback(desk: DeskProcess, http: httpx.Client) -> None:
    r = http.get("/api/test/boom", params={"phone": "13812345678"})
    rid = assert_polite_500(r)
    for leaked in ("RuntimeError", "处理市民消息失败", "13812345678", "王小明", "Traceback"):
        assert leaked not in r.text
    [record] = log_records(desk, rid)
    assert record["level"] == "ERROR" and record["logger"] == "desk.http" and record["msg"] == "unexpected error"
    assert record["path"] == "/api/test/boom" and record["method"] == "GET" and record["error_type"] == "RuntimeError"
    assert "phone" not in json.dumps(record)  # the query string is not logged
    exc = record["exc"]
    assert exc.startswith("Traceback") and "in boom" in exc and "RuntimeError: 处理市民消息失败" in exc
    # Personal data in the exception's text is masked in the log.
    assert "138****5678" in exc and "110***********1234" in exc
    assert "13812345678" not in exc and "110101199003071234" not in exc


def test_a_database_error_does_not_quote_the_statements_values(desk: DeskProcess, http: httpx.Client) -> None:
    rid = assert_polite_500(http.get("/api/test/bad-sql"))
    [record] = log_records(desk, rid)
    assert "no_such_table" in record["exc"] and "UndefinedTable" in record["exc"]
    assert "王小明" not in record["exc"] and "parameters hidden" in record["exc"]


def test_a_failing_middleware_is_handled_the_same_way(desk: DeskProcess, http: httpx.Client) -> None:
    rid = assert_polite_500(http.get("/api/test/middleware-boom"))
    [record] = log_records(desk, rid)
    assert record["error_type"] == "ConnectionError" and "Connection refused" in record["exc"]


def test_a_browser_gets_a_small_chinese_page(desk: DeskProcess, http: httpx.Client) -> None:
    r = http.get("/api/test/boom", headers=HTML)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    rid = r.headers["x-request-id"]
    assert "<h1>服务暂时出现问题</h1>" in r.text and INTERNAL_ERROR_MESSAGE in r.text and rid in r.text
    assert "RuntimeError" not in r.text and "13812345678" not in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert log_records(desk, rid)


def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(desk: DeskProcess, http: httpx.Client) -> None:
    r = http.get("/api/test/boom", headers={"X-Request-ID": "nginx-5f2c9a0b7d"})
    assert assert_polite_500(r) == "nginx-5f2c9a0b7d"
    forged = http.get("/api/test/boom", headers={"X-Request-ID": 'x", "level": "INFO'})
    rid = assert_polite_500(forged)
    assert len(rid) == 32 and rid.isalnum()


def test_expected_errors_are_unchanged(http: httpx.Client) -> None:
    assert http.get("/api/nope").json() == {"error": "您访问的页面或文件不存在，请检查地址是否正确。"}
    assert http.get("/api/auth/me").status_code == 401
