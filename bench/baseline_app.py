"""The HTTP baseline (b): the task endpoints without RLS, for `make bench` to compare against.

It serves GET /api/tasks and GET /api/tasks/{id} with the same parts as the real handlers
(apps/tasks/endpoints.py): the same query parsing, query builder (apps/tasks/queries.py),
pagination, JSON encoding and error handlers. What it leaves out is what tenant isolation
costs: no request transaction, no role switch, no claims in the database. Its queries
run on a pool of the write client (admin, BYPASSRLS) with an explicit tenant filter, as
an application without RLS would. The JWT is still verified (any API needs to know the
tenant), by the same TokenVerifier. Never mount this in the real app: it bypasses RLS.

Run: `uvicorn bench.baseline_app:app` with WRITE_DATABASE_URL/READ_DATABASE_URL set.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from apps.tasks.queries import COLUMNS, SORT_KEYS, filtered
from apps.tasks.schemas import TaskListQuery
from apps.tasks.tables import Task
from refresh.db.engines import WRITE_DB, WRITE_NODE
from refresh.web.api import parse_query
from refresh.web.errors import EXCEPTION_HANDLERS
from refresh.web.pagination import after_cursor, order_by, page
from refresh.web.process import freeze_startup_heap
from refresh.web.requests import claims_of, path_uuid
from refresh.web.responses import JSONResponse, error_response
from refresh.web.tokens import AuthError, TokenVerifier, bearer_token
from settings import get_settings


class VerifyTokenOnly:
    """The RLS middleware's step 1 (JWT to claims, or 401) and nothing else."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            claims = await self.verifier.verify(bearer_token(scope))
        except AuthError as exc:
            await error_response(401, exc.code, exc.message)(scope, receive, send)
            return
        scope.setdefault("state", {})["claims"] = claims
        await self.app(scope, receive, send)


async def get_tasks(request: Request) -> Response:
    """apps.tasks.queries.list_tasks, plus `task.tenant_id = $n`, on the write pool."""
    query = parse_query(request, TaskListQuery)
    key = SORT_KEYS[query.sort]
    descending = query.order == "desc"
    select = filtered(query).where(Task.tenant_id == claims_of(request).tenant_id)
    if query.cursor is not None:
        select = select.where(after_cursor(key, descending, query.cursor, "task"))
    select = select.order_by(order_by(key), Task.id, ascending=not descending)
    rows: list[dict[str, Any]] = await select.limit(query.limit + 1).run(node=WRITE_NODE)
    return JSONResponse(page(rows, query.limit, key, descending))


async def get_task(request: Request) -> Response:
    """apps.tasks.queries.fetch_task, plus `task.tenant_id = $n`, on the write pool."""
    tenant_filter = Task.tenant_id == claims_of(request).tenant_id
    select = Task.select(*COLUMNS).where((Task.id == path_uuid(request)) & tenant_filter)
    row = await select.first().run(node=WRITE_NODE)
    if row is None:
        raise HTTPException(404, "task not found")
    return JSONResponse(row)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = get_settings()
    # The same pool size as the read pool of the real app (refresh/db/clients.py).
    await WRITE_DB.start_connection_pool(
        min_size=settings.read_pool_min_size, max_size=settings.read_pool_max_size
    )
    freeze_startup_heap()  # as the real app does
    try:
        yield
    finally:
        await WRITE_DB.close_connection_pool()


def create_baseline_app() -> Starlette:
    api = Starlette(
        routes=[
            Route("/tasks", get_tasks, methods=["GET"]),
            Route("/tasks/{id}", get_task, methods=["GET"]),
        ],
        middleware=[Middleware(VerifyTokenOnly, verifier=TokenVerifier(get_settings()))],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Mount("/api", app=api)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


app = create_baseline_app()
