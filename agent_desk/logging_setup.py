"""Structured (JSON-lines) logs with personal data masked."""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from channels.normalize import mask_pii

        data = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname,
                "logger": record.name, "msg": mask_pii(record.getMessage())}
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                data[k] = mask_pii(v) if isinstance(v, str) else v
        if record.exc_info:
            # A traceback quotes the exception's text, which can hold what a citizen typed.
            data["exc"] = mask_pii(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger("desk")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
