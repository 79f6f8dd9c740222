"""piccolo-admin: a column's stored values shown by a label, e.g. a tenant's slug for its id.

piccolo-admin shows a value by a name only for a foreign key (`<column>_readable`) or a
column with choices: for those, its list cells show the choice's `display_name` and its
filter is a drop-down. A column that refers to rows without a foreign key (the audit
log's tenant, kept when the tenant goes) gets neither, and no setting gives it one.
`labelled_values` wraps a site and, in the table schema piccolo-admin reads
(`/api/tables/<t>/schema/`), gives such columns choices made when the schema is asked
for: `labels()` -> {stored value: label}. A value without a label is shown as stored.
Filters still send the stored value. tests/refresh/compat/test_piccolo_admin_labels.py
fails if piccolo-api's schema stops carrying `extra.choices` for a column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Labels = Callable[[], Awaitable[dict[str, str]]]
TABLE_SCHEMA = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/schema/$")


def relative_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def with_choices(schema: Any, column: str, labels: dict[str, str]) -> Any:
    """The schema with `column`'s choices set to `labels` (a label, by its value)."""
    prop = schema.get("properties", {}).get(column) if isinstance(schema, dict) else None
    if not isinstance(prop, dict) or not isinstance(prop.get("extra"), dict) or not labels:
        return schema
    prop["extra"]["choices"] = {
        value: {"display_name": label, "value": value} for value, label in labels.items()
    }
    return schema


def labelled_values(app: ASGIApp, columns: Mapping[str, Mapping[str, Labels]]) -> ASGIApp:
    """`columns`: tablename -> column name -> its labels (called per schema request,
    inside the request's transaction)."""

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return
        match = TABLE_SCHEMA.search(relative_path(scope))
        labelled = columns.get(match["table"]) if match else None
        if not labelled:
            await app(scope, receive, send)
            return
        await app(scope, receive, edited_schema(send, labelled))

    return site


def edited_schema(send: Send, labelled: Mapping[str, Labels]) -> Send:
    """A send that holds the schema back and gives the labelled columns their choices."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def edit(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            schema = json.loads(body)
            for column, labels in labelled.items():
                schema = with_choices(schema, column, await labels())
            body = json.dumps(schema).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return edit
