"""Citizen uploads: type sniffed from bytes, size-limited, random unguessable names."""
from __future__ import annotations

import httpx

from .test_web_socket import Desk, connect, web_desk  # noqa: F401  (module fixture)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


async def test_upload_rules(web_desk: Desk) -> None:  # noqa: F811
    c = await connect(web_desk.url)
    try:
        async with httpx.AsyncClient(base_url=web_desk.url, timeout=20) as http:
            files = {"file": ("照片.png", PNG, "image/png")}
            assert (await http.post("/api/web/uploads", files=files)).status_code == 401
            headers = {"X-Citizen-Token": c.token or ""}
            fake = await http.post("/api/web/uploads", headers=headers,
                                   files={"file": ("x.png", b"<html>not an image</html>", "image/png")})
            assert fake.status_code == 415 and "PNG" in fake.json()["error"]
            big = await http.post("/api/web/uploads", headers=headers,
                                  files={"file": ("big.png", PNG + b"\0" * (5 * 1024 * 1024), "image/png")})
            assert big.status_code == 413

            ok = await http.post("/api/web/uploads", headers=headers, files=files, data={"client_id": "up-1"})
            assert ok.status_code == 201, ok.text
            body = ok.json()
            att = body["attachment"]
            assert att["type"] == "image" and att["name"] == "照片.png" and att["size"] == len(PNG)
            got = await http.get(att["url"])
            assert got.status_code == 200 and got.content == PNG
            assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
            again = await http.post("/api/web/uploads", headers=headers, files=files, data={"client_id": "up-1"})
            assert again.json()["duplicate"] and again.json()["message_id"] == body["message_id"]
            assert (await http.get("/uploads/..%2F..%2Fetc%2Fpasswd")).status_code == 404
            assert (await http.get("/uploads/notarandomname.png")).status_code == 404

            pdf = await http.post("/api/web/uploads", headers=headers,
                                  files={"file": ("材料.pdf", b"%PDF-1.4\n%...\n", "application/pdf")})
            assert pdf.status_code == 201 and pdf.json()["attachment"]["type"] == "file"
            served = await http.get(pdf.json()["attachment"]["url"])
            assert served.headers["content-disposition"] == "attachment"
        await c.wait(lambda: sum(1 for e, d in c.events if e == "citizen_message") >= 2)
        history = await c.sio.call("history_request", {"after_id": 0})
        images = [m for m in history["messages"] if m["kind"] == "image"]
        assert len(images) == 1 and images[0]["attachment"]["url"] == att["url"]
    finally:
        await c.sio.disconnect()
