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

    @property
    def socketio_channel(self) -> str:
        return f"{self.prefix}:socketio"
