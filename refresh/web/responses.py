"""JSON responses and the error shape of the HTTP boundary (DESIGN.md "Conventions")."""

from __future__ import annotations

import datetime
import enum
import os
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

# Keys that are not strings are written as text, as json.dumps did.
OPTIONS = orjson.OPT_NON_STR_KEYS


def _encode(value: Any) -> Any:
    """What orjson does not write itself: asyncpg's own UUID type (a uuid.UUID subclass,
    which orjson refuses), and subclasses of date and datetime."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, by orjson: several times json.dumps's speed on a page of rows
    (bench/RESULTS.md). Datetimes as ISO 8601 with their offset, as isoformat() writes."""
    return orjson.dumps(data, default=_encode, option=OPTIONS)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def error_body(code: str, message: str) -> bytes:
    return dumps({"error": {"code": code, "message": message}})


RANGE_HEADERS = (b"range", b"if-range")


class TemporaryFileResponse(FileResponse):
    """A file made for this one response (an export): `cleanup` removes it once the
    response is over, sent or not (sending failed half-way: the client left), or through
    `discard` when it is never sent (refresh/web/middleware.py: the request failed).

    Always the whole file. A range of it cannot be resumed by a later request, which
    makes a new file, and FileResponse answers a malformed Range with plain text: the
    Range and If-Range headers are taken out of the scope, which is the one way
    FileResponse offers (it reads them from the scope, and has no option to turn
    ranges off)."""

    def __init__(
        self, path: str | os.PathLike[str], cleanup: Callable[[], None], **options: Any
    ) -> None:
        super().__init__(path, **options)
        self.headers["accept-ranges"] = "none"
        self._cleanup: Callable[[], None] | None = cleanup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", ()) if k not in RANGE_HEADERS]
        try:
            await super().__call__({**scope, "headers": headers}, receive, send)
        finally:
            self.discard()

    def discard(self) -> None:
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup()
