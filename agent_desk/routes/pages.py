"""HTML pages: citizen widget, agent workspace, manager reports; and static files."""
from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request, redirect
from sanic.response import file

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

bp = Blueprint("pages")
bp.static("/static", str(STATIC), name="static")


@bp.get("/")
async def index(request: Request):  # type: ignore[no-untyped-def]
    return redirect("/widget")


@bp.get("/favicon.ico")
async def favicon(request: Request):  # type: ignore[no-untyped-def]
    return await file(STATIC / "favicon.svg", mime_type="image/svg+xml")


@bp.get("/widget")
async def widget(request: Request):  # type: ignore[no-untyped-def]
    return await file(TEMPLATES / "widget.html", mime_type="text/html; charset=utf-8")


@bp.get("/agent")
async def agent(request: Request):  # type: ignore[no-untyped-def]
    return await file(TEMPLATES / "agent.html", mime_type="text/html; charset=utf-8")


@bp.get("/reports")
async def reports(request: Request):  # type: ignore[no-untyped-def]
    return await file(TEMPLATES / "reports.html", mime_type="text/html; charset=utf-8")
