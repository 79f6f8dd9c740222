"""piccolo-admin / piccolo-api: the JSON body of an admin write, checked before either
library reads it, so that no body is a 500 and a boolean is not a number.

- piccolo-api turns the ValueError of a value its database driver cannot encode (a lone
  UTF-16 surrogate, `"\\ud800"`) into "Unable to save the resource." with status 500, and
  a body nested deeper than Python's parser goes is a RecursionError (a 500 too).
- Its pydantic models are lax: JSON `true` for an integer column is saved as 1 (the
  API's models are strict: issue 15, "a boolean is not a priority"), `1` for a boolean
  column as true, and a new row's unknown fields are dropped without a word (an edit's
  are refused).
- Its change-password endpoint takes the fields as they come: a number is a TypeError
  (`len()`), a password longer than Piccolo's maximum a ValueError, both 500s; and it
  and piccolo-admin's custom forms call `.get()` or `**` on any JSON value (a 500 for
  `null`, a list, a number, or for a form, no body at all).

`strict_bodies` wraps a site and answers such bodies itself, in the API's shape: 400 for
a body that is not JSON, 422 naming the field otherwise. Bodies that pass are replayed
unchanged. tests/refresh/compat/test_piccolo_admin.py fails when piccolo-api's models
stop taking `true` for an integer (this layer is then only a second line).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import BigInt, Boolean, Column, Float, Integer, Numeric, SmallInt
from piccolo_admin.endpoints import TableConfig
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from refresh.compat.piccolo_admin import read_all, relative_path, replay_once

NUMBERS = (Integer, BigInt, SmallInt, Float, Numeric)
WRITES = frozenset({"POST", "PATCH", "PUT"})
# /api/tables/<t>/ (add) and /api/tables/<t>/<id>/ (edit)
TABLE_WRITE = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/([^/]+/)?$")
FORM = re.compile(r"/api/forms/[^/]+/$")
CHANGE_PASSWORD = "/api/change-password/"  # noqa: S105 (a path, not a password)
PASSWORD_FIELDS = ("current_password", "new_password", "confirm_new_password")


class BadBody(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def kinds(pages: Sequence[TableConfig]) -> dict[str, dict[str, str]]:
    """tablename -> {column name: "number" | "boolean" | "other"}."""

    def kind(column: Column) -> str:
        if isinstance(column, Boolean):
            return "boolean"
        return "number" if isinstance(column, NUMBERS) else "other"

    return {
        page.table_class._meta.tablename: {
            c._meta.name: kind(c) for c in page.table_class._meta.columns
        }
        for page in pages
    }


def media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower()
    return b""


def is_json(scope: Scope) -> bool:
    """What FastAPI would parse as JSON: no content type, application/json or +json."""
    media = media_type(scope)
    return media in (b"", b"application/json") or media.endswith(b"+json")


def check_password_change(fields: Any) -> None:
    if not isinstance(fields, dict):  # piccolo-api calls .get() on it
        raise BadBody(422, "validation_error", "the body must be a JSON object")
    longest = BaseUser._max_password_length
    for name in PASSWORD_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadBody(422, "validation_error", f"{name}: text is expected")
        if len(value) > longest:
            raise BadBody(422, "validation_error", f"{name}: at most {longest} characters")


def unencodable(data: Any) -> str | None:
    """The path of the first text (key or value) that is not valid Unicode, or None.
    Walked with a stack: the parser admits nesting as deep as Python's recursion goes."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{path}.{key}" if path else str(key), key))
                stack.append((f"{path}.{key}" if path else str(key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
    return None


def parsed(body: bytes) -> Any:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadBody(400, "bad_request", "request body is not valid JSON") from None
    where = unencodable(data)
    if where is not None:
        named = where.encode("utf-8", "backslashreplace").decode()  # the key may be the fault
        raise BadBody(422, "validation_error", f"{named}: the text is not valid Unicode")
    return data


def check(body: bytes, columns: dict[str, str] | None) -> None:
    """`columns`: the kinds of the table's columns, None for a write to no table."""
    data = parsed(body)
    if not isinstance(data, dict) or columns is None:
        return  # piccolo-api answers it (422)
    unknown = sorted(name for name in data if name not in columns)
    if unknown:
        raise BadBody(422, "validation_error", f"unknown fields: {', '.join(unknown)}")
    for name, value in data.items():
        kind = columns.get(name)
        if kind == "number" and isinstance(value, bool):
            raise BadBody(
                422, "validation_error", f"{name}: a number is expected, not {json.dumps(value)}"
            )
        if kind == "boolean" and value is not None and not isinstance(value, bool):
            raise BadBody(422, "validation_error", f"{name}: true or false is expected")


def strict_bodies(app: ASGIApp, pages: Sequence[TableConfig]) -> ASGIApp:
    tables = kinds(pages)

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await app(scope, receive, send)
            return
        path = relative_path(scope)
        form = media_type(scope) == b"application/x-www-form-urlencoded"
        if not path.startswith("/api/") or not (is_json(scope) or path == CHANGE_PASSWORD):
            await app(scope, receive, send)
            return
        body = await read_all(receive)
        try:
            if path == CHANGE_PASSWORD and form:
                check_password_change(dict(parse_qsl(body.decode("utf-8", "replace"))))
            elif path == CHANGE_PASSWORD and body:
                check_password_change(parsed(body))
            elif FORM.search(path) and is_json(scope):
                if not isinstance(parsed(body), dict):
                    raise BadBody(422, "validation_error", "the body must be a JSON object")
            elif body and is_json(scope):
                match = TABLE_WRITE.search(path)
                check(body, tables.get(match["table"]) if match else None)
        except BadBody as bad:
            # the API's error shape (refresh/web/responses.py, which compat cannot import)
            error = {"error": {"code": bad.code, "message": bad.message}}
            await JSONResponse(error, status_code=bad.status)(scope, receive, send)
            return
        await app(scope, replay_once(body), send)

    return site
