"""piccolo-admin / piccolo-api: a filter on a column with choices matches the choice.

piccolo-api filters a text column with `ILIKE '%value%'` unless the request says
`<column>__match=exact`, and piccolo-admin's filter form never says it: filtering tasks
by status `do` would also list `done`, and no index can serve a substring match
(bench/RESULTS.md, admin figures). Neither library has a setting for it, so
`exact_choice_filters` wraps a site as an ASGI app and adds `<column>__match=exact` to
the query string of its table endpoints for every column with choices that the request
filters on without a match type of its own. tests/refresh/compat/test_piccolo_admin.py
fails if piccolo-api stops honouring `__match=exact` or starts matching choices exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from piccolo_admin.endpoints import TableConfig
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# /api/tables/<tablename>/ (the list and its CSV export) and .../count/
TABLE_LIST = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/(count/)?$")


def choice_columns(pages: Sequence[TableConfig]) -> dict[str, frozenset[str]]:
    """tablename -> the names of its columns with choices."""
    return {
        page.table_class._meta.tablename: frozenset(
            c._meta.name for c in page.table_class._meta.columns if c._meta.choices is not None
        )
        for page in pages
    }


def with_exact_matches(query: bytes, columns: frozenset[str]) -> bytes:
    params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    given = {name for name, _ in params}
    extra = [
        (f"{name}__match", "exact")
        for name in dict.fromkeys(name for name, _ in params)
        if name in columns and f"{name}__match" not in given
    ]
    return urlencode(params + extra).encode("latin-1") if extra else query


def exact_choice_filters(app: ASGIApp, pages: Sequence[TableConfig]) -> ASGIApp:
    choices = choice_columns(pages)

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope.get("path", "")
            root: str = scope.get("root_path", "")
            relative = path[len(root) :] if root and path.startswith(root) else path
            match = TABLE_LIST.search(relative)
            if match and choices.get(match["table"]):
                query = with_exact_matches(scope.get("query_string", b""), choices[match["table"]])
                scope = {**scope, "query_string": query}
        await app(scope, receive, send)

    return site


# --- forms: a pinned column and bookkeeping last ------------------------------------------
# piccolo-admin builds its add and edit forms from /api/tables/<t>/schema/ (a JSON schema:
# a field per property, in their order), and POSTs every field of the add form. It has no
# setting to leave a field out of the forms or to order them, so `form_adjustments` wraps
# a site and edits that schema (the pinned column removed, the `last` fields moved to the
# end) and the add form's body (the pinned column set to `pinned_value(scope)`). The
# server-side hooks still pin the column (apps/admin/hooks.py): this makes the form usable.
# tests/refresh/compat/test_piccolo_admin.py fails if the schema's shape changes.
TABLE_SCHEMA = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/schema/$")
TABLE_ROWS = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/$")


def relative_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def adjusted_schema(schema: Any, pinned: str | None, last: Sequence[str]) -> Any:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    properties = dict(schema["properties"])
    if pinned is not None:
        properties.pop(pinned, None)
        if isinstance(schema.get("required"), list):
            schema["required"] = [name for name in schema["required"] if name != pinned]
    moved = {name: properties.pop(name) for name in last if name in properties}
    schema["properties"] = {**properties, **moved}
    return schema


async def read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def form_adjustments(
    app: ASGIApp,
    pinned_column: str | None,
    pinned_value: Callable[[Scope], str | None],
    last: Sequence[str],
    pinned_tables: frozenset[str] = frozenset(),
) -> ASGIApp:
    """`pinned_column` leaves the forms of `pinned_tables` and is set on their new rows."""

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = relative_path(scope)
        schema = TABLE_SCHEMA.search(path)
        if scope["method"] == "GET" and schema:
            pinned = pinned_column if schema["table"] in pinned_tables else None
            await app(scope, receive, edited_json(send, pinned, last))
            return
        rows = TABLE_ROWS.search(path)
        pinned_here = pinned_column is not None and rows and rows["table"] in pinned_tables
        value = pinned_value(scope) if pinned_here else None
        if scope["method"] == "POST" and value is not None:
            body = await read_all(receive)
            try:
                row = json.loads(body)
            except ValueError:
                row = None  # not JSON: piccolo-api answers it
            if isinstance(row, dict):
                row[pinned_column] = value
                body = json.dumps(row).encode()
            receive = replay_once(body)
        await app(scope, receive, send)

    return site


def replay_once(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def edited_json(send: Send, pinned: str | None, last: Sequence[str]) -> Send:
    """A send that holds the response back and edits its JSON schema."""
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
            body = json.dumps(adjusted_schema(json.loads(body), pinned, last)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return edit
