"""Faults: a slow statement is cut by the per-request timeout; a database that goes away
gets fast 503s and a not-ready /readyz, and the app recovers when it is back."""

from __future__ import annotations

import time
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apps.projects.tables import Project
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB
from refresh.web.errors import EXCEPTION_HANDLERS
from refresh.web.middleware import BearerTokenResolver, TransactionMiddleware
from refresh.web.requests import claims_of
from refresh.web.responses import JSONResponse
from refresh.web.tokens import TokenVerifier
from settings import get_settings
from tests.database import _with_user_and_db
from tests.scratch import ScratchDatabase, scratch_server, uvicorn


async def write_then_sleep(request: Request) -> Response:
    name = request.query_params["name"]
    await Project.insert(Project(tenant_id=claims_of(request).tenant_id, name=name))
    await Project.raw("select pg_sleep(5)")
    return JSONResponse({"slept": True})


def app_with_timeout(milliseconds: int) -> Starlette:
    settings = get_settings()
    inner = Starlette(
        routes=[Route("/slow", write_then_sleep, methods=["POST"])],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    resolver = BearerTokenResolver(
        READ_DB, TokenVerifier(settings), settings.authenticated_role, milliseconds
    )
    return TransactionMiddleware(inner, resolver)  # type: ignore[return-value]


async def test_statement_timeout_cuts_a_slow_request_and_rolls_back(app, tenant_a):
    name = f"slow-{uuid.uuid4()}"
    transport = httpx.ASGITransport(app=app_with_timeout(300))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        started = time.monotonic()
        response = await client.post(f"/slow?name={name}", headers=tenant_a.headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    assert elapsed < 2.5
    assert await write_client.run(Project.count().where(Project.name == name)) == 0


def test_database_outage_is_a_fast_503_and_the_app_recovers():
    from refresh.db.bootstrap import bootstrap
    from refresh.db.embedded import start_server, stop_server

    settings = get_settings()
    with scratch_server() as (data_dir, superuser_url):
        bootstrap(superuser_url, "refresh", settings)
        db = ScratchDatabase(superuser_url, "refresh")
        db.piccolo("migrations", "forwards", "all")
        db.piccolo("tenants", "create", "outage")
        token = db.piccolo("rls", "token", "--tenant", "outage", "--user", "u").stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        # "u" is no member of the scratch tenant: membership is not what this test is about
        env = {
            **db.env,
            "DB_ACQUIRE_TIMEOUT": "1",
            "READ_POOL_MIN_SIZE": "1",
            "MEMBERSHIP_CHECK": "false",
        }
        assert env["READ_DATABASE_URL"] == _with_user_and_db(
            superuser_url, settings.authenticator_role, "refresh"
        )
        with uvicorn(env) as base, httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/api/projects", headers=headers).status_code == 200

            stop_server(data_dir)
            for _ in range(3):
                started = time.monotonic()
                response = client.get("/api/projects", headers=headers)
                assert time.monotonic() - started < 2.5
                assert response.status_code == 503
                assert response.json()["error"]["code"] == "unavailable"
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz").status_code == 200

            start_server(data_dir)
            deadline = time.monotonic() + 15
            statuses = []
            while time.monotonic() < deadline:
                statuses.append(client.get("/api/projects", headers=headers).status_code)
                if statuses[-1] == 200:
                    break
                time.sleep(0.2)
            assert statuses[-1] == 200, statuses
            assert client.get("/readyz").status_code == 200
        log = uvicorn.last_log  # type: ignore[attr-defined]
        # asyncpg logs its own reconnect attempts; nothing of ours crashed or answered 500.
        assert "Exception in ASGI application" not in log
        assert "unhandled error" not in log
