"""Structured logs: one JSON object per line, with the request id of the request being served.

Only fields named here are written; headers, cookies and query strings are never logged, so
bearer tokens, session ids and OAuth codes cannot end up in a log line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from workflow.request_scope import current_request_id

# Attributes a LogRecord always has; anything else passed in `extra=` is written as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_HANDLER_NAME = "okr-json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        entry.setdefault("request_id", current_request_id.get())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    """Send the server's own loggers ("okr.*") to stderr; idempotent, so app factories may call it."""
    logger = logging.getLogger("okr")
    logger.setLevel(level)
    if any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
