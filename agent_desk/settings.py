"""One settings object, read from the environment once at start-up."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-insecure-secret-change-me"


class SettingsError(RuntimeError):
    """Raised when the environment would run the desk unsafely."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _flag(name: str, default: bool) -> bool:
    text = _env(name, "").lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be on or off (1/0, true/false, yes/no), not {text!r}")


def _public_url(name: str) -> str:
    url = _env(name, "").rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with https:// or http://, not {url!r}")
    return url


def _positive_int(name: str, default: int) -> int:
    text = _env(name, str(default))
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise SettingsError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    env: str = "dev"  # dev | test | prod
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = f"sqlite+aiosqlite:///{ROOT / '.run' / 'desk.sqlite3'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "desk"
    secret_key: str = DEV_SECRET
    bot_url: str = "http://127.0.0.1:5005"
    bot_api_token: str = ""
    bot_timeout_s: float = 8.0
    service_token: str = ""  # the action server's token for /api/internal/*
    max_message_chars: int = 500
    session_ttl_s: int = 12 * 3600
    # The address staff and citizens use (the proxy's, e.g. https://kefu.example.gov.cn); empty
    # when they reach the desk directly. The session cookie is Secure when that is https.
    public_url: str = ""
    cookie_secure: bool = False
    # Login throttling (services/login_throttle.py): failures counted per username and per
    # client address within the window; reaching a limit locks logins for ``login_lock_s``.
    login_max_failures: int = 5
    login_ip_max_failures: int = 20
    login_failure_window_s: int = 15 * 60
    login_lock_s: int = 15 * 60
    allowed_origins: tuple[str, ...] = ()
    upload_dir: Path = ROOT / ".run" / "uploads"
    upload_max_bytes: int = 5 * 1024 * 1024
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_msg_format: str = "json"
    wechat_api_base: str = "https://api.weixin.qq.com"
    # Mini-program delivery recovery (channels/miniprogram_resend.py). A message not sent this
    # long after it was stored, or whose sender has shown no progress this long (its process
    # died, WeChat hung), is taken over by the sweep that every worker runs at start and every
    # interval. It must outlast one send with all its retries (about 40 s at worst).
    wechat_resend_after_s: int = 60
    wechat_resend_interval_s: int = 15
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")

    @classmethod
    def from_env(cls) -> Settings:
        env = _env("DESK_ENV", "dev")
        secret = _env("DESK_SECRET_KEY", DEV_SECRET)
        service_token = _env("DESK_SERVICE_TOKEN", "")
        if env not in ("dev", "test"):
            if secret == DEV_SECRET or len(secret) < 32:
                raise SettingsError("DESK_SECRET_KEY must be set to a random value of 32+ characters outside dev mode")
            if not service_token:
                raise SettingsError("DESK_SERVICE_TOKEN must be set outside dev mode")
        origins = tuple(o.strip() for o in _env("DESK_ALLOWED_ORIGINS", "").split(",") if o.strip())
        public_url = _public_url("DESK_PUBLIC_URL")
        return cls(
            env=env,
            host=_env("DESK_HOST", "127.0.0.1"),
            port=int(_env("DESK_PORT", "8000")),
            database_url=_normalise_db_url(_env("DATABASE_URL", cls.database_url)),
            redis_url=_env("REDIS_URL", cls.redis_url),
            redis_prefix=_env("DESK_REDIS_PREFIX", "desk"),
            secret_key=secret,
            bot_url=_env("BOT_URL", f"http://127.0.0.1:{_env('BOT_PORT', '5005')}"),
            bot_api_token=_env("BOT_API_TOKEN", ""),
            bot_timeout_s=float(_env("BOT_TIMEOUT_S", "8")),
            service_token=service_token or secrets.token_urlsafe(24),
            max_message_chars=int(_env("DESK_MAX_MESSAGE_CHARS", "500")),
            session_ttl_s=_positive_int("DESK_SESSION_TTL_S", cls.session_ttl_s),
            allowed_origins=origins,
            public_url=public_url,
            cookie_secure=_flag("DESK_COOKIE_SECURE", public_url.startswith("https://")),
            login_max_failures=_positive_int("DESK_LOGIN_MAX_FAILURES", cls.login_max_failures),
            login_ip_max_failures=_positive_int("DESK_LOGIN_IP_MAX_FAILURES", cls.login_ip_max_failures),
            login_failure_window_s=_positive_int("DESK_LOGIN_FAILURE_WINDOW_S", cls.login_failure_window_s),
            login_lock_s=_positive_int("DESK_LOGIN_LOCK_S", cls.login_lock_s),
            upload_dir=Path(_env("DESK_UPLOAD_DIR", str(cls.upload_dir))),
            wechat_token=_env("WECHAT_TOKEN", ""),
            wechat_aes_key=_env("WECHAT_AES_KEY", ""),
            wechat_appid=_env("WECHAT_APPID", ""),
            wechat_secret=_env("WECHAT_SECRET", ""),
            wechat_msg_format=_env("WECHAT_MSG_FORMAT", "json").lower(),
            wechat_api_base=_env("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
            wechat_resend_after_s=_positive_int("WECHAT_RESEND_AFTER_S", cls.wechat_resend_after_s),
            wechat_resend_interval_s=_positive_int("WECHAT_RESEND_INTERVAL_S", cls.wechat_resend_interval_s),
        )


def _normalise_db_url(url: str) -> str:
    """Accept plain postgres:// URLs as operators write them, and use the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url
