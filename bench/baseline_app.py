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
import functools
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from apps.tasks.queries import COLUMNS, filtered, is_unfiltered, ordered, sort_key
from apps.tasks.schemas import TaskListQuery
from apps.tasks.tables import Task
from refresh.compat.piccolo_frozen import FrozenWithParams, Param
from refresh.db.engines import WRITE_DB, WRITE_NODE
from refresh.web.api import parse_query
from refresh.web.errors import EXCEPTION_HANDLERS
from refresh.web.pagination import after_cursor, page
from refresh.web.process import tune_collector_for_serving
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


# Built once, as the real app's queries are (apps/tasks/queries.py: frozen), so that
# (a)/(b) compares RLS with an explicit filter, not two ways of building the SQL.
@functools.cache
def unfiltered_page(sort: str, descending: bool, limit: int) -> FrozenWithParams:
    select = Task.select(*COLUMNS).where(Task.tenant_id == Param("tenant"))
    return FrozenWithParams(ordered(select, sort, descending, limit))


@functools.cache
def by_id() -> FrozenWithParams:
    tenant_filter = Task.tenant_id == Param("tenant")
    return FrozenWithParams(
        Task.select(*COLUMNS).where((Task.id == Param("id")) & tenant_filter).limit(1)
    )


async def get_tasks(request: Request) -> Response:
    """apps.tasks.queries.list_tasks, plus `task.tenant_id = $n`, on the write pool."""
    query = parse_query(request, TaskListQuery)
    descending = query.order == "desc"
    key = sort_key(query.sort, descending)
    tenant = claims_of(request).tenant_id
    if is_unfiltered(query):
        frozen = unfiltered_page(query.sort, descending, query.limit)
        rows = await frozen.rows(WRITE_NODE, tenant=tenant)
        return JSONResponse(page(rows, query.limit, key, descending))
    select = filtered(query).where(Task.tenant_id == tenant)
    if query.cursor is not None:
        select = select.where(after_cursor(key, descending, query.cursor, "task"))
    rows = await ordered(select, query.sort, descending, query.limit).run(node=WRITE_NODE)
    return JSONResponse(page(rows, query.limit, key, descending))


async def get_task(request: Request) -> Response:
    """apps.tasks.queries.fetch_task, plus `task.tenant_id = $n`, on the write pool."""
    task_id, tenant = path_uuid(request), claims_of(request).tenant_id
    rows = await by_id().rows(WRITE_NODE, id=task_id, tenant=tenant)
    if not rows:
        raise HTTPException(404, "task not found")
    return JSONResponse(rows[0])


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = get_settings()
    # The same pool size as the read pool of the real app (refresh/db/clients.py).
    await WRITE_DB.start_connection_pool(
        min_size=settings.read_pool_min_size, max_size=settings.read_pool_max_size
    )
    tune_collector_for_serving()  # as the real app does
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
