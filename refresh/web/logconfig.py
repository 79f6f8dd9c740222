"""Logging as one JSON object per line (python-json-logger), for the servers.

`logging_config()` is a `logging.config.dictConfig` dictionary, given to uvicorn by the
production command (serve.py) so every worker configures itself the same way:
the project's loggers and uvicorn's own write JSON to stdout, each record with the
request id of the request it was written in (`RequestIdFilter`); uvicorn's access log is
off, the project's request log (refresh/web/requestlog.py) replaces it with more fields.
Nothing is configured at import, and the tests keep pytest's own handlers.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

#: The id of the request being served (set by refresh/web/requestlog.py).
REQUEST_ID: ContextVar[str | None] = ContextVar("refresh_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records written while a request is served (and drops
    uvicorn's coloured duplicate of the message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's copy of its message with terminal colours: noise in a JSON line
        record.__dict__.pop("color_message", None)
        if not hasattr(record, "request_id"):
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "refresh.web.logconfig.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
                "timestamp": "time",
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": ["stdout"], "propagate": False},
            "uvicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
