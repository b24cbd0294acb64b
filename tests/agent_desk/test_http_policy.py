"""What every desk response carries: security headers, Chinese errors (an HTML page for a
browser), HEAD on pages and files, one Cache-Control on uploads, quiet static 404s; and an
OpenAPI document that lists every API route. A real desk process."""
from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from . import desk_process
from .desk_process import DeskProcess

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PAGES = ["/widget", "/agent", "/reports", "/staff"]


@pytest.fixture(scope="module")
def upload_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
def desk(pg_url: str, redis_url: str, service_token: str, upload_dir: Path) -> Iterator[DeskProcess]:
    proc = desk_process.start(pg_url, redis_url, service_token, name="desk-policy",
                              extra={"DESK_UPLOAD_DIR": str(upload_dir)})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def http(desk: DeskProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=30) as client:
        yield client


def directives(csp: str) -> dict[str, str]:
    parts = (d.strip().partition(" ") for d in csp.split(";") if d.strip())
    return {name: value for name, _, value in parts}


def test_staff_pages_cannot_be_framed_and_run_only_their_own_files(http: httpx.Client) -> None:
    for path in ["/agent", "/reports", "/staff", "/agent/", "/reports/", "/staff/"]:
        r = http.get(path)
        assert r.status_code == 200
        csp = directives(r.headers["content-security-policy"])
        assert csp["frame-ancestors"] == "'none'" and r.headers["x-frame-options"] == "DENY"
        assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'" and csp["object-src"] == "'none'"
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        # The policy forbids inline code, so the pages must have none.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", r.text)
        # A reload gets a 304, whose headers the browser applies to its cached page: same policy.
        again = http.get(path, headers={"If-Modified-Since": r.headers["last-modified"]})
        assert again.status_code == 304
        assert again.headers["content-security-policy"] == r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/widget", "/widget/"])
def test_the_widget_can_be_embedded(http: httpx.Client, path: str) -> None:
    r = http.get(path)
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == "*"  # DESK_ALLOWED_ORIGINS is empty: embed.js on any site
    assert "x-frame-options" not in r.headers
    assert csp["connect-src"] == "'self'" and r.headers["x-content-type-options"] == "nosniff"
    again = http.get(path, headers={"If-Modified-Since": r.headers["last-modified"]})
    assert again.status_code == 304
    assert again.headers["content-security-policy"] == r.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", r.text)


def test_widget_frame_ancestors_follow_allowed_origins() -> None:
    from agent_desk.security_headers import policies

    widget = directives(policies(("https://www.example.gov.cn", "https://zwfw.example.cn"))["widget"])
    assert widget["frame-ancestors"] == "'self' https://www.example.gov.cn https://zwfw.example.cn"
    assert directives(policies(())["page"])["frame-ancestors"] == "'none'"


def test_api_responses_carry_the_headers_too(http: httpx.Client) -> None:
    for r in (http.get("/healthz"), http.get("/api/auth/me"), http.get("/static/common/api.js")):
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_pages_and_files_answer_head(http: httpx.Client) -> None:
    for path in [*PAGES, "/favicon.ico", "/static/common/api.js", "/static/staff/staff.js", "/healthz"]:
        get, head = http.get(path), http.head(path)
        assert head.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert http.head("/").status_code == 302


def test_unknown_addresses_get_a_chinese_404(http: httpx.Client) -> None:
    api = http.get("/agnet")
    assert api.status_code == 404 and api.json() == {"error": "您访问的页面或文件不存在，请检查地址是否正确。"}
    page = http.get("/agnet", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>页面不存在</h1>" in page.text and "Requested URL" not in page.text
    assert directives(page.headers["content-security-policy"])["frame-ancestors"] == "'none'"
    assert http.get("/static/common/error.css").status_code == 200  # the page's stylesheet
    wrong = http.post("/widget")
    assert wrong.status_code == 405 and wrong.json() == {"error": "不支持此请求方法。"}
    assert "GET" in wrong.headers["allow"]
    # Messages the desk wrote itself stay as they were.
    assert http.get("/uploads/notarandomname.png").json() == {"error": "文件不存在"}


def test_static_404s_are_quiet(desk: DeskProcess, http: httpx.Client) -> None:
    before = desk.log.read_text(errors="replace")
    for path in ["/static/nope.js", "/static/", "/static/agent", "/static/agent/", "/static/..%2fapp.py",
                 "/static/%2e%2e/app.py", "/static/agent/../../app.py", "/static/.hidden"]:
        r = http.get(path)
        assert r.status_code == 404, path
        assert r.json() == {"error": "文件不存在"} or "不存在" in r.json()["error"], path
    ok = http.get("/static/common/api.js")
    assert ok.status_code == 200 and ok.headers["content-type"] == "text/javascript; charset=utf-8"
    again = http.get("/static/common/api.js", headers={"If-Modified-Since": ok.headers["last-modified"]})
    assert again.status_code == 304
    logged = desk.log.read_text(errors="replace")[len(before):]
    assert "ERROR" not in logged and "Traceback" not in logged
    assert '"msg": "not found"' in logged and '"level": "INFO"' in logged


def test_uploads_have_one_cache_control(http: httpx.Client, upload_dir: Path) -> None:
    name = f"{secrets.token_urlsafe(24)}.png"
    (upload_dir / name).write_bytes(PNG)
    r = http.get(f"/uploads/{name}")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers.get_list("cache-control") == ["private, max-age=3600"]
    # The upload's own sandboxing policy is kept, not replaced by the general one.
    assert r.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]
    assert r.headers.get_list("referrer-policy") == ["no-referrer"]
    head = http.head(f"/uploads/{name}")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == "image/png"


def test_openapi_lists_every_api_route(http: httpx.Client) -> None:
    from agent_desk.app import create_app
    from agent_desk.settings import Settings

    spec = http.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    documented = {(path.rstrip("/") or "/", method.upper()) for path, ops in spec["paths"].items() for method in ops}
    app = create_app(Settings(env="test"), name=f"openapi-{uuid.uuid4().hex[:6]}")
    pages = {"/", "/widget", "/agent", "/reports", "/staff", "/favicon.ico", "/api/openapi.json"}
    routed = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<([a-z_]+):[a-z]+>", r"{\1}", route.path)
        if path in pages or path.startswith("/static/"):
            continue
        routed |= {(path.rstrip("/"), m) for m in route.methods if m != "HEAD"}
    assert routed - documented == set(), "routes missing from /api/openapi.json"
    assert {(p, m) for p, m in documented if m != "HEAD"} - routed == set(), "documented but not routed"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["responses"] and op["summary"], (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
    assert {"/api/web/uploads", "/uploads/{name}", "/webhooks/miniprogram",
            "/api/cases/{case_id}/channel-info"} <= set(spec["paths"])
    assert "429" in spec["paths"]["/api/auth/login"]["post"]["responses"]
