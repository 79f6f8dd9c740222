"""Keyset (cursor) pagination: every row exactly once, even while rows are inserted.

A page ends at a row; the opaque cursor holds that row's sort key and id, and the next
page continues strictly after (key, id) in the same order, with a row comparison an
index on (tenant_id, key, id) serves. OFFSET would skip or repeat rows under inserts,
and costs more the deeper the page.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString
from starlette.exceptions import HTTPException


@dataclass(frozen=True)
class SortKey:
    name: str  # public name: ?sort=created_at
    sql: str  # the expression sorted on, e.g. coalesce(task.due_at, 'infinity')
    cast: str  # the SQL type a cursor value is cast to
    column: str  # the row field the cursor value is read from

    def cursor_value(self, row: dict[str, Any]) -> str:
        value = row[self.column]
        if value is None:
            return "infinity"  # only nullable timestamps sort on coalesce(x, 'infinity')
        return value.isoformat() if hasattr(value, "isoformat") else str(value)


def encode_cursor(key: SortKey, descending: bool, row: dict[str, Any]) -> str:
    payload = {"k": key.name, "d": descending, "v": key.cursor_value(row), "id": str(row["id"])}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: SortKey, descending: bool) -> tuple[str, uuid.UUID]:
    """The (value, id) a page starts after; 422 for anything that is not our cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        value, row_id = payload["v"], uuid.UUID(payload["id"])
        same_order = payload["k"] == key.name and payload["d"] is descending
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise HTTPException(422, "cursor is not valid") from None
    if not isinstance(value, str) or len(value) > 64 or not same_order:
        raise HTTPException(422, "cursor does not belong to this sort order")
    return value, row_id


def after_cursor(key: SortKey, descending: bool, cursor: str, table: str) -> WhereRaw:
    value, row_id = decode_cursor(cursor, key, descending)
    operator = "<" if descending else ">"
    # A bad value (e.g. not a timestamp) fails the cast in SQL; check it here instead.
    _validate(key, value)
    # The value travels as text and is cast in SQL ('infinity' is a valid timestamptz).
    return WhereRaw(
        f"({key.sql}, {table}.id) {operator} ({{}}::text::{key.cast}, {{}}::uuid)", value, row_id
    )


def order_by(key: SortKey) -> QueryString:
    return QueryString(key.sql)


def _validate(key: SortKey, value: str) -> None:
    from datetime import datetime

    try:
        if key.cast == "timestamptz":
            if value != "infinity":
                datetime.fromisoformat(value)
        elif key.cast == "int":
            int(value)
    except ValueError:
        raise HTTPException(422, "cursor is not valid") from None


def page(rows: list[dict[str, Any]], limit: int, key: SortKey, descending: bool) -> dict[str, Any]:
    """Rows were fetched with limit + 1: the extra one only says whether more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(key, descending, rows[-1]) if more and rows else None
    return {"data": rows, "next_cursor": cursor}
