"""Every Redis key the desk uses, in one place."""
from __future__ import annotations


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def queue(self) -> str:
        """Sorted set of waiting case ids, scored by enqueue time."""
        return f"{self.prefix}:queue"

    def citizen_lock(self, channel: str, external_id: str) -> str:
        return f"{self.prefix}:lock:citizen:{channel}:{external_id}"

    def dedupe(self, channel: str, key: str) -> str:
        return f"{self.prefix}:dedupe:{channel}:{key}"

    def presence(self, agent_id: int) -> str:
        return f"{self.prefix}:presence:agent:{agent_id}"

    def rate_limit(self, scope: str, key: str, window: int) -> str:
        return f"{self.prefix}:rl:{scope}:{key}:{window}"

    def wechat_token(self, appid: str) -> str:
        return f"{self.prefix}:wechat:access_token:{appid}"

    def wechat_token_lock(self, appid: str) -> str:
        """Held by the one worker that fetches a new access_token; the others wait and reuse it."""
        return f"{self.prefix}:wechat:access_token_lock:{appid}"

    def wechat_options(self, openid: str) -> str:
        """JSON {"1": payload, ...}: the numbered options last sent to this mini-program citizen."""
        return f"{self.prefix}:wechat:options:{openid}"

    def wechat_sent_count(self, openid: str) -> str:
        """Customer-service messages sent since the citizen last wrote (WeChat allows 5 per message)."""
        return f"{self.prefix}:wechat:sent:{openid}"

    def wechat_greeted(self, conversation_id: int) -> str:
        return f"{self.prefix}:wechat:greeted:{conversation_id}"

    @property
    def socketio_channel(self) -> str:
        return f"{self.prefix}:socketio"
