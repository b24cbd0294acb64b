"""A local stand-in for WeChat's API, as a real HTTP server on 127.0.0.1.

``FakeWeChat`` implements WeChat's documented token and customer-service send API
(GET /cgi-bin/token, POST /cgi-bin/message/custom/send): it issues access tokens, checks
them, validates the message shapes, records every request (raw bytes included) and can be
told to answer errors (40001, 42001, 45015, 45047, -1, ...) or to answer slowly.

The server runs in a thread (tests/support/threaded_server.py), so a test may block or
await without starving it.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.threaded_server import ThreadedServer

SEND_TYPES = {"text": ("content",), "image": ("media_id",), "link": ("title", "url"),
              "miniprogrampage": ("title", "pagepath", "thumb_media_id")}


@dataclass
class SentMessage:
    raw: bytes            # the request body exactly as the desk sent it
    body: dict[str, Any]
    token: str
    answered: dict[str, Any]

    @property
    def touser(self) -> str:
        return str(self.body.get("touser", ""))

    @property
    def msgtype(self) -> str:
        return str(self.body.get("msgtype", ""))

    @property
    def text(self) -> str:
        return str((self.body.get("text") or {}).get("content", ""))


@dataclass
class FakeWeChat(ThreadedServer):
    appid: str = "wx-test-appid"
    secret: str = "test-secret"
    expires_in: int = 7200
    token_requests: int = 0
    sent: list[SentMessage] = field(default_factory=list)    # accepted and answered errcode 0
    attempts: list[SentMessage] = field(default_factory=list)  # every send request, whatever the answer
    send_delay_s: float = 0.0
    stalled: int = 0  # send requests held unanswered (stall_sends) so far
    _stalling: bool = False
    _scripted: list[int] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)   # token -> expiry (monotonic)
    _revoked: set[str] = field(default_factory=set)
    _closed_windows: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        ThreadedServer.__init__(self)

    # ---- test controls -------------------------------------------------------------
    def fail_next(self, *errcodes: int) -> None:
        """Answer the next sends with these errcodes, in order (a valid token is still required)."""
        with self._lock:
            self._scripted.extend(errcodes)

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 40001 from now on (secret reset elsewhere)."""
        with self._lock:
            self._revoked.update(self._tokens)

    def expire_tokens(self) -> None:
        """Every token issued so far answers 42001 (expired) from now on."""
        with self._lock:
            for t in self._tokens:
                self._tokens[t] = 0.0

    def close_window(self, openid: str) -> None:
        """The citizen last wrote more than 48 hours ago: sends to them answer 45015."""
        with self._lock:
            self._closed_windows.add(openid)

    def reopen_window(self, openid: str) -> None:
        """The citizen wrote again."""
        with self._lock:
            self._closed_windows.discard(openid)

    def stall_sends(self) -> None:
        """Hold every send request unanswered, as a network that swallows it before WeChat sees it."""
        with self._lock:
            self._stalling = True

    def release_sends(self) -> None:
        """Let held requests go: answered -1 and recorded nowhere, as they never reached WeChat."""
        with self._lock:
            self._stalling = False

    def stop(self) -> None:
        self.release_sends()
        super().stop()

    def sent_to(self, openid: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.touser == openid]

    def texts_to(self, openid: str) -> list[str]:
        return [m.text for m in self.sent_to(openid) if m.msgtype == "text"]

    def attempts_to(self, openid: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.attempts if m.touser == openid]

    # ---- the API -------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        with self._lock:
            self.token_requests += 1
            n = self.token_requests
        if q.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if q.get("appid") != self.appid:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = f"ACCESS_TOKEN_{n}_{time.monotonic_ns()}"
        with self._lock:
            self._tokens[token] = time.monotonic() + self.expires_in
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        token = request.query.get("access_token", "")
        with self._lock:
            held = self._stalling
            self.stalled += held
        if held:
            while self._stalling:
                await asyncio.sleep(0.05)
            return web.json_response({"errcode": -1, "errmsg": "system error"})
        if self.send_delay_s:
            await asyncio.sleep(self.send_delay_s)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        answer = self._answer(token, body)
        record = SentMessage(raw=raw, body=body if isinstance(body, dict) else {}, token=token, answered=answer)
        with self._lock:
            self.attempts.append(record)
            if answer["errcode"] == 0:
                self.sent.append(record)
        return web.json_response(answer)

    def _answer(self, token: str, body: Any) -> dict[str, Any]:
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None or token in self._revoked:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if expiry <= time.monotonic():
                return {"errcode": 42001, "errmsg": "access_token expired"}
            if not isinstance(body, dict):
                return {"errcode": 47001, "errmsg": "data format error"}
            msgtype = body.get("msgtype")
            fields = SEND_TYPES.get(str(msgtype))
            inner = body.get(str(msgtype))
            if not body.get("touser"):
                return {"errcode": 40003, "errmsg": "invalid openid"}
            if fields is None or not isinstance(inner, dict):
                return {"errcode": 40008, "errmsg": "invalid message type"}
            if any(not inner.get(f) for f in fields):
                return {"errcode": 44003, "errmsg": "empty news data"}
            if body["touser"] in self._closed_windows:
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            if self._scripted:
                code = self._scripted.pop(0)
                return {"errcode": code, "errmsg": f"scripted error {code}"}
        return {"errcode": 0, "errmsg": "ok"}


class WeChatPusher:
    """Plays WeChat's push side: builds signed (plain) or encrypted (safe) pushes for a desk.

    ``push`` returns the desk's HTTP response; keyword overrides let tests break one thing at
    a time (signature, timestamp, appid, body).
    """

    def __init__(self, url: str, *, token: str, appid: str, fmt: str, aes_key: str | None = None) -> None:
        from channels.wechat_crypto import WeChatCrypto

        self.url = url.rstrip("/") + "/webhooks/miniprogram"
        self.token, self.appid, self.fmt, self.aes_key = token, appid, fmt, aes_key
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self._nonce = 0

    def serialize(self, fields: dict[str, Any]) -> str:
        if self.fmt == "json":
            return json.dumps(fields, ensure_ascii=False)
        parts = []
        for k, v in fields.items():
            raw = isinstance(v, int | RawXml)
            parts.append(f"<{k}>{v}</{k}>" if raw else f"<{k}><![CDATA[{v}]]></{k}>")
        return "<xml>" + "".join(parts) + "</xml>"

    def build(self, msg: dict[str, Any], *, timestamp: int | None = None, appid: str | None = None,
              sign_as: str = "auto") -> tuple[dict[str, str], bytes]:
        """Query parameters and body of a push as WeChat would send it."""
        from channels.wechat_crypto import WeChatCrypto, sha1_signature

        self._nonce += 1
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = f"{self._nonce}{time.time_ns() % 10**6}"
        params = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(self.token, ts, nonce)}
        if self.crypto is None:
            return params, self.serialize(msg).encode("utf-8")
        crypto = self.crypto if appid is None else WeChatCrypto(self.token, self.aes_key or "", appid)
        encrypt = crypto.encrypt(self.serialize(msg))
        body = self.serialize({"ToUserName": msg.get("ToUserName", "gh_test"), "Encrypt": encrypt}).encode("utf-8")
        params.update({"encrypt_type": "aes", "openid": str(msg.get("FromUserName", ""))})
        if sign_as != "signature_only":
            params["msg_signature"] = crypto.sign(ts, nonce, encrypt)
        return params, body

    def send(self, params: dict[str, str], body: bytes, **kw: Any) -> Any:
        import httpx

        ctype = "application/json" if self.fmt == "json" else "text/xml"
        return httpx.post(self.url, params=params, content=body, headers={"Content-Type": ctype}, timeout=10, **kw)

    def push(self, msg: dict[str, Any], **kw: Any) -> Any:
        return self.send(*self.build(msg, **kw))


class RawXml(str):
    """A field value written into an XML push as markup, not as CDATA text (malformed pushes)."""


def text_push(openid: str, content: str, msg_id: int, *, create_time: int | None = None) -> dict[str, Any]:
    return {"ToUserName": "gh_test", "FromUserName": openid, "CreateTime": create_time or int(time.time()),
            "MsgType": "text", "Content": content, "MsgId": msg_id}
