"""The floor (d): the two read endpoints with the same security and nothing else.

What Python can do for GET /api/tasks?limit=50 and GET /api/tasks/{id}, for `make bench`
to measure the real app (a) against: two raw Starlette routes, no middleware stack, no
ORM, no validation models, asyncpg and orjson. The security is the real app's: the HS256
JWT verified with the same settings (secret, audience, issuer, leeway, exp required), the
claims normalised as the app does (refresh.db.claims.build_claims), and every query in a
READ ONLY transaction on the authenticator's pool switched by `auth.begin_request`, so
RLS does the isolation. The round trips are the fewest this takes: BEGIN and role+claims
in one simple-protocol message (claims as a quoted literal), the query, COMMIT with the
connection reset in one message. The responses are the app's, byte for byte in content
(the bench compares them before measuring).

Only the default list (no filters, created_at descending, limit 50) and fetch by id are
served; anything else is 404. Never mount this in the real app: it is a measuring stick.

Run: `uvicorn bench.floor_app:app` with READ_DATABASE_URL set.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from refresh.db.claims import Channel, ClaimsError, build_claims
from refresh.db.sql import string_literal
from refresh.web.pagination import encode_cursor
from refresh.web.process import tune_collector_for_serving
from settings import get_settings

# apps/tasks/queries.py's COLUMNS and joins, written out (the SQL Piccolo generates).
SELECT = """select t.id, t.project_id, p.name as project_name, t.title, t.description,
 t.status, t.priority, t.assignee_id, m.display_name as assignee_name, t.due_at, t.tags,
 t.created_at, t.updated_at
 from task t left join project p on t.project_id = p.id
 left join member m on t.assignee_id = m.id"""
LIST_SQL = SELECT + " order by t.created_at desc, t.id desc limit 51"
FETCH_SQL = SELECT + " where t.id = $1 limit 1"
LIMIT = 50
JSON = "application/json"
STATE: dict[str, Any] = {}


def error(status: int, code: str, message: str) -> Response:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return Response(body, status, media_type=JSON)


def begin_script(request: Request) -> str | None:
    """BEGIN and auth.begin_request in one message, or None when the token is refused."""
    settings = STATE["settings"]
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["exp"], "verify_aud": settings.jwt_audience is not None},
        )
        claims = build_claims(payload, Channel.api)
    except (jwt.PyJWTError, ClaimsError):
        return None
    literal = string_literal(orjson.dumps(claims.payload).decode())
    return f"BEGIN READ ONLY; select auth.begin_request({literal}, {STATE['args']})"


async def in_transaction(script: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    pool: asyncpg.Pool = STATE["pool"]
    async with pool.acquire() as connection:
        await connection.execute(script)
        try:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        except BaseException:
            await connection.execute("ROLLBACK; " + STATE["reset"])
            raise
        await connection.execute("COMMIT; " + STATE["reset"])
    return rows


async def get_tasks(request: Request) -> Response:
    script = begin_script(request)
    if script is None:
        return error(401, "invalid_token", "token is invalid")
    rows = [dict(r) for r in await in_transaction(script, LIST_SQL)]
    more = len(rows) > LIMIT
    rows = rows[:LIMIT]
    cursor = encode_cursor(STATE["key"], True, rows[-1]) if more and rows else None
    return Response(orjson.dumps({"data": rows, "next_cursor": cursor}), media_type=JSON)


async def get_task(request: Request) -> Response:
    script = begin_script(request)
    if script is None:
        return error(401, "invalid_token", "token is invalid")
    try:
        task_id = uuid.UUID(request.path_params["id"])
    except ValueError:
        return error(404, "not_found", "task not found")
    rows = await in_transaction(script, FETCH_SQL, str(task_id))
    if not rows:
        return error(404, "not_found", "task not found")
    return Response(orjson.dumps(dict(rows[0])), media_type=JSON)


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


async def uuid_as_text(connection: asyncpg.Connection) -> None:
    """UUIDs arrive as their canonical text, which orjson writes as it is (it does not
    take asyncpg's own UUID type)."""
    await connection.set_type_codec(
        "uuid", encoder=str, decoder=str, schema="pg_catalog", format="text"
    )


async def no_reset(connection: asyncpg.Connection) -> None:
    """The reset went with COMMIT or ROLLBACK (in_transaction): nothing left to send."""


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    from apps.tasks.queries import SORT_KEYS  # the cursor's format, as the app writes it
    from refresh.db.transaction import timeout_setting

    settings = get_settings()
    timeout = timeout_setting(settings.statement_timeout_ms)
    STATE["settings"] = settings
    STATE["key"] = SORT_KEYS["created_at"]
    STATE["args"] = (
        f"{string_literal(settings.authenticated_role)}, "
        f"{string_literal(timeout) if timeout else 'null'}"
    )
    # The same pool size as the read pool of the real app (refresh/db/clients.py).
    pool = await asyncpg.create_pool(
        settings.read_database_url,
        min_size=settings.read_pool_min_size,
        max_size=settings.read_pool_max_size,
        reset=no_reset,
        init=uuid_as_text,
    )
    async with pool.acquire() as connection:
        STATE["reset"] = "RESET ROLE; " + connection.get_reset_query()
    STATE["pool"] = pool
    tune_collector_for_serving()  # as the real app does
    try:
        yield
    finally:
        await pool.close()


app = Starlette(
    routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/tasks", get_tasks, methods=["GET"]),
        Route("/api/tasks/{id}", get_task, methods=["GET"]),
    ],
    lifespan=lifespan,
)
