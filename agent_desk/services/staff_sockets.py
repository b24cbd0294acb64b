"""Staff live sockets (socket.io /agent) per session, so that ending a session closes them.

A workspace socket is authenticated once, when it connects. Without this, a socket whose
session was ended (logout, logout everywhere, account disabled, token expired) would keep
receiving new cases and citizens' messages until the browser went away. Each socket is
recorded in Redis under its user (socket id -> token id); ending sessions disconnects the
matching sockets through socket.io's Redis manager, which reaches them on whichever worker
they are.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..context import DeskContext
from .auth import sockets_key
from .delivery import AGENT_NS

log = logging.getLogger("desk.auth")

# This worker's sockets, each closed by a timer when its token expires.
_expiry_timers: dict[str, asyncio.TimerHandle] = {}
_closing: set[asyncio.Task[None]] = set()  # keeps the closing tasks referenced until done


async def remember(ctx: DeskContext, *, user_id: int, sid: str, jti: str) -> None:
    key = sockets_key(ctx.keys, user_id)
    async with ctx.redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, sid, jti)
        # Entries of a worker that died are harmless (disconnecting an unknown socket does
        # nothing) and go away with the key, at the latest when the last token could expire.
        pipe.expire(key, ctx.settings.session_ttl_s)
        await pipe.execute()


def close_at_expiry(ctx: DeskContext, *, sid: str, claims: dict[str, Any]) -> None:
    """Close the socket when its token stops working (``session_ttl_s`` after login): nothing
    else would, and it would go on receiving live updates with a token the API refuses."""
    def close() -> None:
        _expiry_timers.pop(sid, None)
        task = asyncio.ensure_future(ctx.sio.disconnect(sid, namespace=AGENT_NS))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    # The signature's timestamp is in whole seconds and a token of age ttl still passes, so it
    # stops working at the next whole second after iat + ttl.
    expires_at = int(claims["iat"]) + ctx.settings.session_ttl_s + 1
    delay = max(0.0, expires_at - time.time())
    _expiry_timers[sid] = asyncio.get_running_loop().call_later(delay, close)


async def forget(ctx: DeskContext, *, user_id: int, sid: str) -> None:
    timer = _expiry_timers.pop(sid, None)
    if timer is not None:
        timer.cancel()
    await ctx.redis.hdel(sockets_key(ctx.keys, user_id), sid)


async def disconnect(ctx: DeskContext, *, user_id: int, jti: str | None = None) -> int:
    """Close the user's sockets of session ``jti``, or of every session when None; returns how many.

    Call it after the session is marked ended: a socket connecting meanwhile is recorded
    before it checks the session a last time (see realtime.py), so one side sees the other.
    """
    key = sockets_key(ctx.keys, user_id)
    sockets = await ctx.redis.hgetall(key)
    ended = [str(sid) for sid, token_id in sockets.items() if jti is None or token_id == jti]
    for sid in ended:
        await ctx.sio.disconnect(sid, namespace=AGENT_NS)
    if ended:
        await ctx.redis.hdel(key, *ended)
        log.info("staff sockets closed", extra={"user_id": user_id, "sockets": len(ended),
                                                "everywhere": jti is None})
    return len(ended)
