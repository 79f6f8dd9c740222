"""The ASGI application: health checks, the tenant API and the admin UI, each behind the
one request path (refresh/web/middleware.py) with its own resolver.

`create_app()` builds the application; importing this module builds one (`app`, what
uvicorn serves) and connects to nothing: the pools open in the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from apps.admin.gate import AdminSessionResolver
from apps.admin.login import LoginGuard
from apps.admin.site import create_sites
from apps.projects.endpoints import api as projects_api
from apps.tasks.comments import api as comments_api
from apps.tasks.endpoints import api as tasks_api
from apps.tasks.stats import api as stats_api
from apps.tenants.endpoints import api as tenants_api
from refresh.compat.admin_responses import csv_safe_exports, json_errors, without_user_id
from refresh.db.engines import (
    READ_DB,
    WRITE_DB,
    close_read_pool,
    close_write_pool,
    start_read_pool,
    start_write_pool,
)
from refresh.rls.startup import verify_database, verify_declarations
from refresh.web.api import Endpoint
from refresh.web.docs import docs_routes
from refresh.web.errors import EXCEPTION_HANDLERS, HTTP_CODES, pg_error
from refresh.web.fairness import TenantLimiter
from refresh.web.headers import SecurityHeaders
from refresh.web.metrics import (
    forget_this_process,
    metrics,
    metrics_endpoint,
    multiprocess_dir,
    sample_pools_forever,
)
from refresh.web.middleware import BearerTokenResolver, TransactionMiddleware
from refresh.web.openapi import openapi_document
from refresh.web.process import tune_collector_for_serving
from refresh.web.requestlog import RequestLogMiddleware
from refresh.web.responses import JSONResponse, error_response
from refresh.web.route_index import RouteIndex
from refresh.web.tokens import TokenVerifier
from settings import get_settings

log = logging.getLogger("refresh.app")

ENDPOINTS: list[Endpoint] = [
    *tenants_api.endpoints,
    *projects_api.endpoints,
    *stats_api.endpoints,
    *tasks_api.endpoints,
    *comments_api.endpoints,
]
OPENAPI = openapi_document(ENDPOINTS, version="0.1.0")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when a read-pool connection answers within the acquire timeout."""
    timeout = get_settings().db_acquire_timeout
    try:
        assert READ_DB.pool is not None
        async with asyncio.timeout(timeout):
            async with READ_DB.pool.acquire() as connection:
                await connection.fetchval("select 1")
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("not ready: %s: %s", type(exc).__name__, exc)
        return error_response(503, "unavailable", "the database is not reachable")
    return JSONResponse({"status": "ready"})


async def openapi_json(request: Request) -> Response:
    return JSONResponse(OPENAPI)


def create_api(routes: Sequence[BaseRoute], limiter: TenantLimiter) -> Starlette:
    settings = get_settings()
    resolver = BearerTokenResolver(
        READ_DB,
        TokenVerifier(settings),
        settings.authenticated_role,
        settings.statement_timeout_ms,
        limiter,
    )
    return Starlette(
        routes=list(routes),
        middleware=[Middleware(TransactionMiddleware, resolver=resolver)],
        exception_handlers=EXCEPTION_HANDLERS,
    )


def create_admin(limiter: TenantLimiter) -> ASGIApp:
    settings = get_settings()
    sites = create_sites(
        production=settings.environment == "production",
        allowed_hosts=settings.admin_allowed_hosts,
    )
    operators_site = csv_safe_exports(sites.operators)
    # staff learn no login id: they are numbered across every tenant
    staff_site = without_user_id(csv_safe_exports(sites.staff))
    resolver = AdminSessionResolver(
        operators_site,
        staff_site,
        sites.pages,
        write_engine=WRITE_DB,
        read_engine=READ_DB,
        role=settings.authenticated_role,
        statement_timeout_ms=settings.statement_timeout_ms,
        import_max_bytes=settings.admin_import_max_bytes,
        limiter=limiter,
    )
    guarded = LoginGuard(TransactionMiddleware(staff_site, resolver), settings)
    return json_errors(guarded, HTTP_CODES, pg_error)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await start_read_pool()
    await start_write_pool()
    await verify_database()  # what the tables declare is in the database, or no start
    metrics()  # made before the first request, so the error hook is in place
    sampler = asyncio.create_task(sample_pools_forever()) if multiprocess_dir() else None
    tune_collector_for_serving()
    try:
        yield
    finally:
        if sampler is not None:
            sampler.cancel()
        forget_this_process()
        await close_write_pool()
        await close_read_pool()


def create_app(extra_api_routes: Sequence[BaseRoute] = ()) -> Starlette:
    verify_declarations()  # no table class declares what would leak, or no app
    settings = get_settings()
    api_routes = [Route(e.path, e.handler, methods=[e.method]) for e in ENDPOINTS]
    # One set of slots per tenant for its API and its staff's admin requests alike.
    limiter = TenantLimiter(settings.tenant_limit, settings.tenant_queue_wait_seconds)
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            # Public, so they sit before the authenticated /api mount.
            Route("/api/openapi.json", openapi_json, methods=["GET"]),
            *docs_routes(),
            # Looked up by first segment rather than tried in turn (refresh/web/route_index.py).
            Mount("/api", app=create_api([RouteIndex(api_routes), *extra_api_routes], limiter)),
            Mount("/admin", app=create_admin(limiter)),
        ],
        # Outermost: the request id, the log line and the metrics of every request; then
        # the security headers on every response.
        middleware=[
            Middleware(RequestLogMiddleware, slow_request_ms=settings.slow_request_ms),
            Middleware(SecurityHeaders),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


app = create_app()
