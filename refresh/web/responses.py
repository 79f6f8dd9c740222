"""JSON responses and the error shape of the HTTP boundary (DESIGN.md "Conventions")."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Any

import orjson
from starlette.responses import Response

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
