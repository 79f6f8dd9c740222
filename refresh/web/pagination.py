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
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString
from starlette.exceptions import HTTPException

INTEGER = re.compile(r"-?[0-9]{1,10}")


@dataclass(frozen=True)
class SortKey:
    name: str  # public name: ?sort=created_at
    sql: str  # the expression sorted on, e.g. coalesce(task.due_at, 'infinity')
    cast: str  # the SQL type a cursor value is cast to
    column: str  # the row field the cursor value is read from
    # What a NULL sorts as: the value inside the coalesce() of `sql` (nullable timestamps).
    null: str = "infinity"

    def cursor_value(self, row: dict[str, Any]) -> str:
        value = row[self.column]
        if value is None:
            return self.null
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
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        UnicodeDecodeError,
        AttributeError,
        RecursionError,  # a cursor of nested JSON arrays
    ):
        raise HTTPException(422, "cursor is not valid") from None
    if not isinstance(value, str) or len(value) > 64 or not same_order:
        raise HTTPException(422, "cursor does not belong to this sort order")
    return value, row_id


def after_cursor(key: SortKey, descending: bool, cursor: str, table: str) -> WhereRaw:
    value, row_id = decode_cursor(cursor, key, descending)
    operator = "<" if descending else ">"
    # A bad value (e.g. not a timestamp) would fail the cast in SQL: check it here, and
    # send the normalised form, which PostgreSQL parses the same way.
    value = _normalised(key, value)
    # The value travels as text and is cast in SQL ('infinity' is a valid timestamptz).
    return WhereRaw(
        f"({key.sql}, {table}.id) {operator} ({{}}::text::{key.cast}, {{}}::uuid)", value, row_id
    )


def order_by(key: SortKey) -> QueryString:
    return QueryString(key.sql)


def _normalised(key: SortKey, value: str) -> str:
    """The cursor value as text PostgreSQL casts to `key.cast` without error, or 422.

    Python accepts more than PostgreSQL (week dates, other scripts' digits, 1_000,
    integers of any size), so the value is parsed here and written out again.
    """
    try:
        if key.cast == "timestamptz":
            if value == key.null:
                return value
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC).isoformat()
        if key.cast == "int":
            if not INTEGER.fullmatch(value) or not -(2**31) <= int(value) < 2**31:
                raise ValueError(value)
            return str(int(value))
    except (ValueError, OverflowError):
        raise HTTPException(422, "cursor is not valid") from None
    return value


def page(rows: list[dict[str, Any]], limit: int, key: SortKey, descending: bool) -> dict[str, Any]:
    """Rows were fetched with limit + 1: the extra one only says whether more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(key, descending, rows[-1]) if more and rows else None
    return {"data": rows, "next_cursor": cursor}
