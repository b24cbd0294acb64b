"""Error responses: JSON ``{"error": "<Chinese message>"}``, or a small HTML page for a browser
that navigated to an address that does not exist.

Sanic's own errors (no route, wrong method, body too large) carry English text; those are
replaced by Chinese ones. Messages the desk wrote itself are already Chinese and are kept.
"""
from __future__ import annotations

import html as htmllib
import logging
import re

from sanic import HTTPResponse, Request, html, json
from sanic.exceptions import SanicException

log = logging.getLogger("desk.http")

_CJK = re.compile(r"[\u4e00-\u9fff]")
_DEFAULT_MESSAGES = {
    404: "您访问的页面或文件不存在，请检查地址是否正确。",
    405: "不支持此请求方法。",
    408: "请求超时，请重试。",
    413: "请求内容过大。",
    416: "请求的文件范围无效。",
}
_PAGE_TITLES = {404: "页面不存在", 405: "无法完成请求"}
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
  <p>{message}</p>
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


async def error_response(request: Request, exc: SanicException) -> HTTPResponse:
    status = exc.status_code
    message = message_for(exc)
    headers = {str(k): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}  # e.g. Allow on 405
    if status == 404:
        log.info("not found", extra={"path": request.path[:200], "method": request.method})
    if status in _PAGE_TITLES and _wants_html(request):
        page = _PAGE.format(title=_PAGE_TITLES[status], message=htmllib.escape(message))
        return html(page, status=status, headers=headers)
    return json({"error": message}, status=status, headers=headers)
