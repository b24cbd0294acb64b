"""HTML pages: citizen widget, agent workspace, manager reports and staff accounts; and static files.

Every page and file answers GET and HEAD. Static files are served by our own small handler
rather than Sanic's: a missing file, a directory or a ``..`` is a plain 404 (Sanic's handler
answers a directory with a 500 and logs a traversal attempt as an error).
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from sanic import Blueprint, Request, redirect
from sanic.exceptions import NotFound
from sanic.response import file

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
GET_HEAD = ["GET", "HEAD"]

bp = Blueprint("pages")


def static_path(relative: str) -> Path | None:
    """The file under ``static/`` that ``relative`` names, or None (missing, a directory, outside)."""
    parts = relative.replace("\\", "/").split("/")
    if any(part in ("", ".", "..") or part.startswith(".") or "\x00" in part for part in parts):
        return None
    path = STATIC.joinpath(*parts).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        return None
    return path


def _mime_type(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mime.startswith("text/") or mime in ("application/javascript", "image/svg+xml"):
        mime += "; charset=utf-8"
    return mime


@bp.route("/static/<relative:path>", methods=GET_HEAD)
async def static_file(request: Request, relative: str):  # type: ignore[no-untyped-def]
    path = static_path(relative)
    if path is None:
        raise NotFound("文件不存在")
    # No build step and no versioned names: browsers revalidate (304 when unchanged).
    return await file(path, request_headers=request.headers, mime_type=_mime_type(path),
                      headers={"cache-control": "no-cache"})


async def _page(request: Request, name: str):  # type: ignore[no-untyped-def]
    return await file(TEMPLATES / name, request_headers=request.headers, mime_type="text/html; charset=utf-8",
                      headers={"cache-control": "no-cache"})


@bp.route("/", methods=GET_HEAD)
async def index(request: Request):  # type: ignore[no-untyped-def]
    return redirect("/widget")


@bp.route("/favicon.ico", methods=GET_HEAD)
async def favicon(request: Request):  # type: ignore[no-untyped-def]
    return await file(STATIC / "favicon.svg", request_headers=request.headers, mime_type="image/svg+xml")


@bp.route("/widget", methods=GET_HEAD)
async def widget(request: Request):  # type: ignore[no-untyped-def]
    return await _page(request, "widget.html")


@bp.route("/agent", methods=GET_HEAD)
async def agent(request: Request):  # type: ignore[no-untyped-def]
    return await _page(request, "agent.html")


@bp.route("/reports", methods=GET_HEAD)
async def reports(request: Request):  # type: ignore[no-untyped-def]
    return await _page(request, "reports.html")


@bp.route("/staff", methods=GET_HEAD)
async def staff(request: Request):  # type: ignore[no-untyped-def]
    return await _page(request, "staff.html")
