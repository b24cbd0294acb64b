"""Liveness and readiness: /healthz reports the desk and what it depends on."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sqlalchemy import text

from .common import desk

bp = Blueprint("health")


@bp.route("/healthz", methods=["GET", "HEAD"])  # HEAD for load balancers and uptime checks
async def healthz(request: Request):  # type: ignore[no-untyped-def]
    ctx = desk(request)
    checks: dict[str, str] = {}
    try:
        async with ctx.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, do not crash the health check
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await ctx.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        await ctx.extras["bot"].status()
        checks["bot"] = "ok"
    except Exception as exc:
        checks["bot"] = f"unreachable: {type(exc).__name__}"  # the desk still works: it hands off
    ok = checks["database"] == "ok" and checks["redis"] == "ok"
    return json({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)
