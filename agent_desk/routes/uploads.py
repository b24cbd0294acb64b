"""Citizen file/image upload to the agent, and serving uploads back.

Only PNG, JPEG and PDF are accepted, recognised by their first bytes (the browser's
declared type and the file name are not trusted). Files get random names under
``settings.upload_dir``; the URL is unguessable (192 random bits) and is shown only to the
citizen who sent it and to staff on that case.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Literal

from sanic import Blueprint, Request, json
from sanic.exceptions import BadRequest, NotFound
from sanic.response import file as file_response

from channels.base import InboundMessage
from channels.web import echo_citizen_message

from ..services import rate_limit
from ..services.router import handle_inbound
from .common import client_ip, desk

bp = Blueprint("uploads")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{32}\.(png|jpg|pdf)$")
KINDS: dict[str, tuple[Literal["image", "file"], str]] = {
    "png": ("image", "image/png"), "jpg": ("image", "image/jpeg"), "pdf": ("file", "application/pdf")}
UPLOAD_LIMIT = rate_limit.Limit(10, 600)


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def _display_name(raw: str, ext: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\<>:\"|?*]", "", raw or "").strip()[:80]
    return name or f"附件.{ext}"


@bp.post("/api/web/uploads")
async def upload(request: Request):  # type: ignore[no-untyped-def]
    ctx = desk(request)
    token = request.headers.get("x-citizen-token") or (request.form.get("citizen_token") if request.form else None)
    external_id = request.app.ctx.citizen_identity.verify(token)
    if external_id is None:
        return json({"error": "身份已失效，请刷新页面后重试"}, status=401)
    retry = await rate_limit.hit(ctx.redis, ctx.keys, scope="web-upload", key=external_id, limit=UPLOAD_LIMIT)
    if retry is not None:
        return json({"error": f"上传太频繁，请{retry}秒后再试"}, status=429)
    upload_file = request.files.get("file") if request.files else None
    if upload_file is None:
        raise BadRequest("请选择要上传的文件")
    body: bytes = upload_file.body
    limit = ctx.settings.upload_max_bytes
    if len(body) > limit:
        return json({"error": f"文件太大，最大 {limit // (1024 * 1024)}MB"}, status=413)
    if not body:
        raise BadRequest("文件是空的")
    ext = sniff(body)
    if ext is None:
        return json({"error": "只支持 PNG、JPG 图片和 PDF 文件"}, status=415)
    kind, _mime = KINDS[ext]
    folder = Path(ctx.settings.upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_urlsafe(24)}.{ext}"
    (folder / stored).write_bytes(body)
    name = _display_name(upload_file.name, ext)
    url = f"/uploads/{stored}"
    attachment = {"type": kind, "url": url, "name": name, "size": len(body)}
    client_id = request.form.get("client_id") if request.form else None
    source_id = str(client_id)[:128] if client_id else None
    result = await handle_inbound(ctx, InboundMessage(
        channel="web", external_user_id=external_id, kind=kind, text=name, source_id=source_id,
        payload={"url": url, "name": name, "size": len(body), "attachment": attachment},
        metadata={"upload_ip": client_ip(request)[:64]},
    ))
    if not result.duplicate and result.message_id is not None:
        await echo_citizen_message(ctx, external_id=external_id, message_id=result.message_id, text=name,
                                   client_id=source_id, kind=kind, attachment=attachment)
    return json({"ok": True, "message_id": result.message_id, "duplicate": result.duplicate,
                 "attachment": attachment}, status=201)


@bp.route("/uploads/<name>", methods=["GET", "HEAD"])
async def serve(request: Request, name: str):  # type: ignore[no-untyped-def]
    if not NAME_RE.match(name):
        raise NotFound("文件不存在")
    path = Path(desk(request).settings.upload_dir) / name
    if not path.is_file():
        raise NotFound("文件不存在")
    ext = name.rsplit(".", 1)[1]
    # Lower-case names: Sanic's file() adds its own "cache-control" unless that exact key is set,
    # and a "Cache-Control" key would not stop it (two conflicting headers).
    headers = {"x-content-type-options": "nosniff", "cache-control": "private, max-age=3600",
               "content-security-policy": "default-src 'none'; sandbox", "referrer-policy": "no-referrer"}
    if ext == "pdf":
        headers["content-disposition"] = "attachment"
    return await file_response(path, mime_type=KINDS[ext][1], headers=headers)
