"""Oversized request bodies are refused before the desk reads them (agent_desk/body_limit.py):
under uvicorn, Sanic's own limit only answers after the whole body is in memory. A real desk
process, raw sockets for what an HTTP client would not send."""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from . import desk_process
from .desk_process import DeskProcess

LIMIT = 10 * 1024 * 1024  # agent_desk/app.py REQUEST_MAX_SIZE


@pytest.fixture(scope="module")
def desk(pg_url: str, redis_url: str, service_token: str) -> Iterator[DeskProcess]:
    proc = desk_process.start(pg_url, redis_url, service_token, name="desk-body-limit")
    yield proc
    proc.stop()


def _raw(desk: DeskProcess, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Send a request by hand; return the status and the JSON answer."""
    host, port = desk.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}")


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_a_declared_huge_body_is_refused_without_being_sent(desk: DeskProcess) -> None:
    # Only the headers go out: the answer must come from Content-Length alone (before, the
    # desk waited for all 400 MB, or forever when they never came).
    head = (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 419430400\r\n")
    status, answer = _raw(desk, head)
    assert status == 413 and answer == {"error": "请求内容过大。"}


def test_a_chunked_body_is_cut_off_at_the_limit(desk: DeskProcess) -> None:
    def chunks() -> Iterator[bytes]:
        piece = b"x" * (1024 * 1024)
        for _ in range(LIMIT // len(piece) + 2):
            yield piece

    with httpx.Client(base_url=desk.url, timeout=30) as http:
        response = http.post("/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": "请求内容过大。"}


def test_a_malformed_content_length_is_a_bad_request(desk: DeskProcess) -> None:
    head = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
    host, port = desk.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + b"\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")  # refused by the HTTP parser already


def test_normal_requests_pass(desk: DeskProcess) -> None:
    with httpx.Client(base_url=desk.url, timeout=30) as http:
        bad_login = http.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
        assert bad_login.status_code == 401
        assert http.get("/healthz").status_code == 200
