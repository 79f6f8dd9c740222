"""piccolo-admin / piccolo-api responses, brought to the project's conventions.

1. Errors: piccolo-api answers `{"detail": ...}`, plain text, or for a constraint
   violation `{"db_error": "<PostgreSQL's message>"}`, which names constraints and tables
   (and, for a unique key, tells whether a value exists); a login it creates fails as
   plain text `Error: <PostgreSQL's message>`, with the failing row (password hash
   included). `json_errors` rewrites every 4xx/5xx of a site into
   `{"error": {"code", "message"}}` (the API's shape), keeping `detail` for
   piccolo-admin's own pages, with database messages replaced by the API's
   (refresh/web/errors.py): no constraint, table or row leaves.
2. CSV export: piccolo-admin builds its CSV in the browser from the list endpoint, read
   in pages of 1000 (`__page_size=1000`), and writes cells as they are: a title such as
   `=HYPERLINK(...)` becomes a formula in a spreadsheet. `csv_safe_exports` prefixes
   such text cells of those pages with `'` (OWASP's advice for CSV injection).

tests/refresh/compat/test_admin_responses.py fails if piccolo-api changes its db_error
shape, piccolo-admin its export page size or its user answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# (status, code, message) for a database exception, or None: refresh/web/errors.pg_error
ErrorMapper = Callable[[Exception], "tuple[int, str, str] | None"]

EXPORT_PAGE_SIZE = "1000"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# PostgreSQL's message for each violation piccolo-api answers with db_error (or, creating
# a login, as text).
DB_MESSAGES = (
    ("duplicate key", asyncpg.UniqueViolationError),
    ("foreign key", asyncpg.ForeignKeyViolationError),
    ("check constraint", asyncpg.CheckViolationError),
    ("null value", asyncpg.NotNullViolationError),
    ("row-level security", asyncpg.InsufficientPrivilegeError),
)
# What only PostgreSQL's own messages say: a text error with any of these is the server's.
SERVER_WORDS = ("violates", "constraint", 'relation "', "DETAIL:", "Failing row")


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def db_error(message: str, mapper: ErrorMapper) -> tuple[int, str, str]:
    for start, error_class in DB_MESSAGES:
        if start in message:
            mapped = mapper(error_class(message))
            if mapped is not None:
                return mapped
    return 422, "validation_error", "the database refused this change"


def server_message(body: bytes, parsed: Any) -> str | None:
    """PostgreSQL's message in a site's error body, if that is what it carries."""
    if isinstance(parsed, dict) and "db_error" in parsed:
        return str(parsed["db_error"])
    if parsed is None:
        text = body.decode("utf-8", "replace")
        if any(word in text for word in SERVER_WORDS):
            return text
    return None


def parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def api_error(status: int, body: bytes, codes: Mapping[int, str], mapper: ErrorMapper) -> bytes:
    """A site's error body in the API's shape."""
    code = codes.get(status, "internal_error" if status >= 500 else "error")
    detail: Any = None
    parsed = parse(body)
    if isinstance(parsed, dict) and "error" in parsed and isinstance(parsed["error"], dict):
        return body
    from_server = server_message(body, parsed)
    if from_server is not None:
        _, code, message = db_error(from_server, mapper)
        return dumps({"error": {"code": code, "message": message}, "detail": message})
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        message = detail = parsed["error"]  # e.g. the page size limit
    elif isinstance(parsed, dict) and "detail" in parsed:
        detail = parsed["detail"]
        message = detail if isinstance(detail, str) else "the request is invalid"
    else:
        message = body.decode("utf-8", "replace")[:200] or "error"
        detail = message
    if status >= 500:
        message = detail = "internal server error"
    out: dict[str, Any] = {"error": {"code": code, "message": message}, "detail": detail}
    if isinstance(parsed, dict) and isinstance(parsed.get("custom_form_error"), str):
        # a form's own refusal (piccolo-admin shows it under the form): kept as it is
        out["error"]["message"] = out["custom_form_error"] = parsed["custom_form_error"]
    return dumps(out)


def db_status(body: bytes, status: int, mapper: ErrorMapper) -> int:
    from_server = server_message(body, parse(body))
    return status if from_server is None else db_error(from_server, mapper)[0]


def is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(n == b"content-type" and v.startswith(b"text/html") for n, v in headers)


def json_errors(app: ASGIApp, codes: Mapping[int, str], mapper: ErrorMapper) -> ASGIApp:
    """`codes`: the error code of each HTTP status; `mapper`: the API's mapping of
    database errors (both from refresh/web/errors.py, which this layer cannot import)."""

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400 or is_html(message.get("headers", [])):
                    await send(message)
                else:
                    start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            raw = b"".join(chunks)
            body = api_error(start["status"], raw, codes, mapper)
            headers = [
                (n, v)
                for n, v in start.get("headers", [])
                if n not in (b"content-length", b"content-type")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            status = db_status(raw, start["status"], mapper)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return site


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, dict):
        return {k: neutralise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [neutralise(v) for v in value]
    return value


def is_export(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    params = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    return ("__page_size", EXPORT_PAGE_SIZE) in params and scope.get("path", "").rstrip("/").rsplit(
        "/", 2
    )[-2:-1] == ["tables"]


def rewriting_json(
    app: ASGIApp, applies: Callable[[Scope], bool], change: Callable[[Any], Any]
) -> ASGIApp:
    """`app` with the JSON body of its 200 answers to the requests `applies` to passed
    through `change` (the whole body is held: these answers are a page at most)."""

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if not applies(scope):
            await app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            parsed = parse(body) if start["status"] == 200 else None
            if parsed is not None:
                body = dumps(change(parsed))
            headers = [(n, v) for n, v in start.get("headers", []) if n != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return site


def neutralise_rows(page: Any) -> Any:
    if isinstance(page, dict) and isinstance(page.get("rows"), list):
        return {**page, "rows": neutralise(page["rows"])}
    return page


def csv_safe_exports(app: ASGIApp) -> ASGIApp:
    return rewriting_json(app, is_export, neutralise_rows)


def is_user_endpoint(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return scope["type"] == "http" and scope["method"] == "GET" and path.endswith("/api/user/")


def blank_user_id(user: Any) -> Any:
    return {**user, "user_id": ""} if isinstance(user, dict) and "user_id" in user else user


def without_user_id(app: ASGIApp) -> ASGIApp:
    return rewriting_json(app, is_user_endpoint, blank_user_id)
