"""Error responses: JSON ``{"error": "<Chinese message>"}``, or a small HTML page for a browser
that navigated to an address that does not exist or hit a fault.

Sanic's own errors (no route, wrong method, body too large) carry English text; those are
replaced by Chinese ones. Messages the desk wrote itself are already Chinese and are kept.
An unexpected exception (a bug, a database or Redis outage) gets a polite 500 with a request
id; the exception's text goes only to the log (personal data masked there), never to the
client, because it can hold SQL, file paths or a citizen's words.
"""
from __future__ import annotations

import html as htmllib
import logging
import re
import uuid

from sanic import HTTPResponse, Request, html, json
from sanic.exceptions import SanicException

log = logging.getLogger("desk.http")

INTERNAL_ERROR_MESSAGE = "服务暂时出现问题，请稍后再试。"
REQUEST_ID_HEADER = "X-Request-ID"

_CJK = re.compile(r"[\u4e00-\u9fff]")
# A proxy's request id is reused so the desk's log lines match the proxy's; anything else a
# client sends there (long, or with characters that could forge log lines) is replaced.
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_DEFAULT_MESSAGES = {
    404: "您访问的页面或文件不存在，请检查地址是否正确。",
    405: "不支持此请求方法。",
    408: "请求超时，请重试。",
    413: "请求内容过大。",
    416: "请求的文件范围无效。",
}
_PAGE_TITLES = {404: "页面不存在", 405: "无法完成请求", 500: "服务暂时出现问题"}
_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 政务服务智能客服</title>
<link rel="stylesheet" href="/static/common/error.css">
</head>
<body>
<main class="error-page">
  <h1>{title}</h1>
  <p>{message}</p>{extra}
  <p><a href="/">返回首页</a></p>
</main>
</body>
</html>
"""


def message_for(exc: SanicException) -> str:
    text = str(exc)
    if exc.status_code in _DEFAULT_MESSAGES and not _CJK.search(text):
        return _DEFAULT_MESSAGES[exc.status_code]
    return text or exc.__class__.__name__


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def request_id(request: Request) -> str:
    """This request's id: the proxy's ``X-Request-ID`` when it looks like one, else a new one."""
    rid = getattr(request.ctx, "request_id", None)
    if rid is None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        rid = sent if _GOOD_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        request.ctx.request_id = rid
    return str(rid)


async def error_response(request: Request, exc: SanicException) -> HTTPResponse:
    status = exc.status_code
    if status == 500:  # Sanic's own ServerError (e.g. a view returned no response) is a bug too
        return await unexpected_error(request, exc)
    message = message_for(exc)
    headers = {str(k): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}  # e.g. Allow on 405
    if status == 404:
        log.info("not found", extra={"path": request.path[:200], "method": request.method})
    if status in _PAGE_TITLES and _wants_html(request):
        page = _PAGE.format(title=_PAGE_TITLES[status], message=htmllib.escape(message), extra="")
        return html(page, status=status, headers=headers)
    return json({"error": message}, status=status, headers=headers)


async def unexpected_error(request: Request, exc: Exception) -> HTTPResponse:
    """Any exception no view turned into an answer: logged with its traceback, answered politely."""
    rid = request_id(request)
    # The query string is left out: it may carry a phone number or a name typed into a filter.
    log.error("unexpected error", exc_info=exc,
              extra={"request_id": rid, "method": request.method, "path": request.path[:200],
                     "route": request.name or "", "error_type": type(exc).__name__})
    headers = {REQUEST_ID_HEADER: rid}
    if _wants_html(request):
        extra = f"\n  <p>问题编号：{htmllib.escape(rid)}（联系管理人员时请提供）</p>"
        page = _PAGE.format(title=_PAGE_TITLES[500], message=INTERNAL_ERROR_MESSAGE, extra=extra)
        return html(page, status=500, headers=headers)
    return json({"error": INTERNAL_ERROR_MESSAGE, "request_id": rid}, status=500, headers=headers)
