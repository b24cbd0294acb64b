"""Security headers on every desk response (one response middleware, see app.py).

The pages load only their own static files and talk to their own origin (HTTP and
socket.io), with no inline script or style, so the policy needs no ``unsafe-inline``. Staff
pages may not be framed at all; the citizen widget is framed by ``embed.js`` on other sites,
so its ``frame-ancestors`` follow ``DESK_ALLOWED_ORIGINS`` (any site while that is empty).
A header a view set itself (uploads have a stricter sandbox policy) is kept.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic import HTTPResponse, Request

_PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")
_OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"  # JSON, scripts, files: nothing to load
WIDGET_PATH = "/widget"
PAGE_PATHS = frozenset({"/agent", "/reports", "/staff"})


def widget_frame_ancestors(allowed_origins: tuple[str, ...]) -> str:
    return " ".join(("'self'", *allowed_origins)) if allowed_origins else "*"


def policies(allowed_origins: tuple[str, ...]) -> dict[str, str]:
    return {"widget": f"{_PAGE_POLICY}; frame-ancestors {widget_frame_ancestors(allowed_origins)}",
            "page": f"{_PAGE_POLICY}; frame-ancestors 'none'",
            "other": _OTHER_POLICY}


def make_middleware(allowed_origins: tuple[str, ...]) -> Callable[[Request, HTTPResponse], Awaitable[None]]:
    csp = policies(allowed_origins)

    async def add_security_headers(request: Request, response: HTTPResponse) -> None:
        headers = response.headers
        path = request.path.rstrip("/") or "/"  # Sanic serves /widget/ as /widget
        is_widget = path == WIDGET_PATH
        # By path as well as by type: a 304 for a page has no Content-Type, and the browser
        # would apply the headers of that 304 (a policy forbidding all scripts) to its copy.
        if is_widget:
            policy = csp["widget"]
        elif path in PAGE_PATHS or (response.content_type or "").startswith("text/html"):
            policy = csp["page"]
        else:
            policy = csp["other"]
        headers.setdefault("Content-Security-Policy", policy)
        if not is_widget:  # X-Frame-Options cannot name several origins; the widget relies on its CSP
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")

    return add_security_headers
