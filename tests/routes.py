"""Endpoints that exist only in the test app, to exercise the request path's edges."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apps.projects.tables import Project
from refresh.web.requests import claims_of
from refresh.web.responses import JSONResponse, TemporaryFileResponse, error_response


async def _insert(request: Request) -> None:
    name = request.query_params["name"]
    await Project.insert(Project(tenant_id=claims_of(request).tenant_id, name=name))


async def write_then_raise(request: Request) -> Response:
    await _insert(request)
    raise RuntimeError("handler failed after a write")


async def write_then_reject(request: Request) -> Response:
    await _insert(request)
    return error_response(400, "bad_request", "rejected after a write")


async def file_then_reject(request: Request) -> Response:
    """A handler that prepared a file to send after the commit (as the export does), then
    answered an error: the error goes out, and the file is removed."""
    folder = Path(request.query_params["folder"])
    path = folder / "prepared.bin"
    path.write_bytes(b"never sent")
    request.state.after_commit = TemporaryFileResponse(str(path), path.unlink)
    return error_response(400, "bad_request", "rejected after preparing a file")


async def write_in_get(request: Request) -> Response:
    await _insert(request)
    return JSONResponse({"written": True})


async def session_state(request: Request) -> Response:
    rows = await Project.raw(
        "select current_user as role, auth.tenant_id() as tenant_id, "
        "auth.user_id() as user_id, current_setting('transaction_read_only') as read_only"
    )
    return JSONResponse(rows[0])


async def write_client_in_handler(request: Request) -> Response:
    """Mistake 2 of issue #12: a handler reaching for the write client."""
    from refresh.db.clients import write_client

    rows = await write_client.run(Project.select(Project.name))
    return JSONResponse({"every_tenant": len(rows)})


async def write_client_on_purpose(request: Request) -> Response:
    from refresh.db.clients import write_client

    with write_client.outside_request("a system action the test stands for"):
        rows = await write_client.fetch("select count(*) as n from tenant")
    return JSONResponse({"tenants": rows[0]["n"]})


async def hold_transaction(request: Request) -> Response:
    """A request that keeps its transaction (and its pool connection) for a while."""
    seconds = float(request.query_params.get("seconds", "1"))
    await Project.raw("select pg_sleep({})", seconds)
    return JSONResponse({"slept": seconds})


async def leave_session_state(request: Request) -> Response:
    """A handler that leaves session-level state behind (what a careless raw query could
    do): claims naming another tenant and a session role. The pool's reset must clear it
    before the connection serves anyone else."""
    other = request.query_params["tenant_id"]
    claims = json.dumps({"sub": "leaked", "tenant_id": other})
    await Project.raw("select set_config('request.jwt.claims', {}, false)", claims)
    await Project.raw("select set_config('request.tenant_id', {}, false)", other)
    await Project.raw("set session role authenticated")
    return JSONResponse({"left": True})


test_routes = [
    Route("/_test/hold", hold_transaction, methods=["GET"]),
    Route("/_test/leave-session-state", leave_session_state, methods=["POST"]),
    Route("/_test/write-client", write_client_in_handler, methods=["GET"]),
    Route("/_test/write-client-on-purpose", write_client_on_purpose, methods=["GET"]),
    Route("/_test/write-then-raise", write_then_raise, methods=["POST"]),
    Route("/_test/write-then-reject", write_then_reject, methods=["POST"]),
    Route("/_test/write-in-get", write_in_get, methods=["GET"]),
    Route("/_test/file-then-reject", file_then_reject, methods=["POST"]),
    Route("/_test/session", session_state, methods=["GET", "POST"]),
]


async def pool_state(request: Request) -> Response:
    """Every connection of the read pool: its role and claims outside any request."""
    from refresh.db.engines import READ_DB

    pool = READ_DB.pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        states = [
            dict(
                await c.fetchrow(
                    "select current_user as role, "
                    "coalesce(current_setting('request.jwt.claims', true), '') as claims"
                )
            )
            for c in connections
        ]
    finally:
        for c in connections:
            await pool.release(c)
    return JSONResponse({"connections": states})


def create_test_app() -> Starlette:
    """The real app plus the test routes, for a real uvicorn (`--factory`)."""
    from app import create_app

    application = create_app(extra_api_routes=test_routes)
    application.router.routes.insert(0, Route("/_test/pool", pool_state, methods=["GET"]))
    return application
