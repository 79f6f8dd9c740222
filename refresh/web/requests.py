"""Reading requests: claims, path ids and JSON bodies, with JSON errors on bad input."""

from __future__ import annotations

import json
import uuid
from typing import TypeVar

from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request

from refresh.db.claims import Claims
from settings import get_settings

Model = TypeVar("Model", bound=BaseModel)


def claims_of(request: Request) -> Claims:
    claims: Claims = request.state.claims
    return claims


Found = TypeVar("Found")


def found(value: Found | None, what: str) -> Found:
    """The row (or rows), else 404: another tenant's row and no row look the same."""
    if not value:
        raise HTTPException(404, f"{what} not found")
    return value


def path_uuid(request: Request, name: str = "id") -> uuid.UUID:
    """A malformed id cannot name any row: 404, the same as an id that is absent."""
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise HTTPException(404, "not found") from None


async def json_body(request: Request, model: type[Model]) -> Model:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "Content-Type must be application/json")
    limit = get_settings().max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():  # counted as it arrives: no length is trusted
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        # ValueError: JSONDecodeError, UnicodeDecodeError, and an integer longer than
        # Python converts (4300 digits). RecursionError: nesting deeper than the
        # parser's stack, e.g. [[[[...]]]].
        raise HTTPException(400, "request body is not valid JSON") from None
    return model.model_validate(data)
