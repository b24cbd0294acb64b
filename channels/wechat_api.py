"""WeChat server API client: the shared access_token and the customer-service send API.

access_token: one per appid, cached in Redis until shortly before it expires, fetched by
exactly one worker at a time (Redis lock); a send that is answered 40001/42001 refreshes it
once. Send errors: 45015 (48-hour window closed) and 45047 (send quota used up) and a few
other answers that cannot change on retry stop at once; anything else (system busy -1,
HTTP errors, timeouts) is retried with exponential backoff, a bounded number of times.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from agent_desk.context import DeskContext

log = logging.getLogger("desk.channels.miniprogram")

TOKEN_INVALID = frozenset({40001, 40014, 42001})  # invalid / malformed / expired access_token
PERMANENT_ERRORS = {
    45015: "48小时会话窗口已关闭，无法再向该市民发送客服消息",
    45047: "客服消息下发条数已达上限，需等待市民再次发送消息",
    40003: "OpenID 无效",  # would fail the same way on every retry
    45002: "消息内容超过长度限制",
    48001: "小程序未获得客服消息接口权限",
}
# Answers that say WeChat could not be reached, or was too busy, rather than that this message
# is unacceptable: -1 system busy, and our own -2 (HTTP error, timeout) and -3 (no access_token:
# the token endpoint unreachable, or appid/secret wrong until an operator fixes them).
UNREACHABLE = frozenset({-1, -2, -3})
RETRY_DELAYS_S = (0.5, 1.0, 2.0)  # three retries after the first try, about 3.5 s in total
HTTP_TIMEOUT_S = 5.0


class TokenError(RuntimeError):
    """The token endpoint did not give us an access_token (wrong appid/secret, network)."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    errcode: int = 0
    errmsg: str = ""
    attempts: int = 1
    permanent: bool = False

    @property
    def unreachable(self) -> bool:
        """Failed through every retry for want of WeChat, not because of the message: try later."""
        return not self.ok and self.errcode in UNREACHABLE

    @property
    def reason(self) -> str:
        """Short, agent-readable reason stored in ``Message.delivery_error``."""
        if self.ok:
            return ""
        label = PERMANENT_ERRORS.get(self.errcode, "发送失败")
        return f"{label}（{self.errcode}: {self.errmsg}）"[:255]


def mask_openid(openid: str) -> str:
    """Enough of an OpenID to correlate log lines, not enough to identify the citizen."""
    if len(openid) <= 8:
        return "***"
    return f"{openid[:4]}***{openid[-4:]}"


def _token_ttl(expires_in: int) -> int:
    # Refresh early: 5 minutes before expiry, or a fifth of a short lifetime.
    return max(1, expires_in - min(300, max(1, expires_in // 5)))


async def _fetch_token(ctx: DeskContext) -> tuple[str, int]:
    s = ctx.settings
    try:
        resp = await ctx.http.get(f"{s.wechat_api_base}/cgi-bin/token",
                                  params={"grant_type": "client_credential", "appid": s.wechat_appid,
                                          "secret": s.wechat_secret}, timeout=HTTP_TIMEOUT_S)
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TokenError(f"token request failed: {type(exc).__name__}") from exc
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        code = data.get("errcode") if isinstance(data, dict) else None
        raise TokenError(f"token endpoint answered errcode {code}")
    try:
        expires_in = int(data.get("expires_in", 7200))
    except (TypeError, ValueError):
        expires_in = 7200
    return token, expires_in


async def access_token(ctx: DeskContext, *, stale: str | None = None) -> str:
    """The current access_token; ``stale`` = the token WeChat just rejected, to be replaced.

    Double-checked under a Redis lock, so a burst of workers produces one token request and
    a worker that sees a rejected token replaced by another worker simply uses the new one.
    """
    appid = ctx.settings.wechat_appid
    key = ctx.keys.wechat_token(appid)
    cached = await ctx.redis.get(key)
    if cached and cached != stale:
        return str(cached)
    async with ctx.redis.lock(ctx.keys.wechat_token_lock(appid), timeout=30, blocking_timeout=30):
        cached = await ctx.redis.get(key)
        if cached and cached != stale:
            return str(cached)
        token, expires_in = await _fetch_token(ctx)
        await ctx.redis.set(key, token, ex=_token_ttl(expires_in))
        log.info("wechat access_token refreshed", extra={"expires_in": expires_in, "replaced": bool(stale)})
        return token


async def _post(ctx: DeskContext, token: str, payload: dict[str, Any]) -> tuple[int, str]:
    # WeChat shows \uXXXX escapes literally in some clients: send UTF-8 Chinese as is.
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    resp = await ctx.http.post(f"{ctx.settings.wechat_api_base}/cgi-bin/message/custom/send",
                               params={"access_token": token}, content=body,
                               headers={"Content-Type": "application/json; charset=utf-8"},
                               timeout=HTTP_TIMEOUT_S)
    if resp.status_code != 200:
        return -2, f"HTTP {resp.status_code}"
    data = resp.json()
    if not isinstance(data, dict):
        return -2, "unexpected answer"
    try:
        return int(data.get("errcode", 0)), str(data.get("errmsg", ""))
    except (TypeError, ValueError):
        return -2, "unexpected errcode"


async def send_custom_message(ctx: DeskContext, payload: dict[str, Any]) -> SendResult:
    """POST one customer-service message; never raises, the result says what happened."""
    refreshed = False
    attempts = 0
    stale: str | None = None
    errcode, errmsg = -2, "not sent"
    while True:
        attempts += 1
        try:
            token = await access_token(ctx, stale=stale)
            errcode, errmsg = await _post(ctx, token, payload)
        except TokenError as exc:
            errcode, errmsg = -3, str(exc)
        except (httpx.HTTPError, ValueError) as exc:
            errcode, errmsg = -2, type(exc).__name__
        if errcode == 0:
            return SendResult(ok=True, attempts=attempts)
        if errcode in TOKEN_INVALID and not refreshed:
            refreshed, stale = True, token
            attempts -= 1  # a token refresh is not one of the bounded retries
            continue
        stale = None
        if errcode in PERMANENT_ERRORS:
            return SendResult(ok=False, errcode=errcode, errmsg=errmsg, attempts=attempts, permanent=True)
        if attempts > len(RETRY_DELAYS_S):
            return SendResult(ok=False, errcode=errcode, errmsg=errmsg, attempts=attempts)
        delay = RETRY_DELAYS_S[attempts - 1] * (1 + random.random() * 0.2)
        log.warning("wechat send failed, retrying",
                    extra={"errcode": errcode, "errmsg": errmsg[:120], "attempt": attempts, "delay_s": delay})
        await asyncio.sleep(delay)
