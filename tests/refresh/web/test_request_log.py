"""The request log (refresh/web/requestlog.py): one record per request with its id, who
asked (tenant, subject), the route template, status, duration and database time; the id
accepted from and returned in X-Request-Id; slow requests logged with their statements;
a refused statement's warning carrying the request id."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import httpx
import pytest

from refresh.web.logconfig import RequestIdFilter
from tests.apps.tasks.support import new_project
from tests.database import superuser_sql, test_database

HEX_ID = re.compile(r"[0-9a-f]{32}")


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "refresh.access"]


def only_record_of(caplog: pytest.LogCaptureFixture, request_id: str) -> Any:
    [record] = [r for r in access_records(caplog) if r.request_id == request_id]  # type: ignore[attr-defined]
    return record


async def test_each_request_has_one_line_saying_who_what_and_how_long(
    client: Any, tenant_a: Any, tenant_b: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project = await new_project(client, tenant_a, "logged")
    caplog.set_level(logging.INFO, logger="refresh.access")
    response = await client.get(f"/api/projects/{project['id']}", headers=tenant_a.headers)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(request_id)
    record = only_record_of(caplog, request_id)
    assert record.levelno == logging.INFO
    assert record.route == "/api/projects/{id}"  # the template: no id in it
    assert record.path == f"/api/projects/{project['id']}"
    assert (record.method, record.status) == ("GET", 200)
    assert record.tenant == str(tenant_a.id)
    assert record.subject == "tenant-a-member"
    # begin, role and claims, the select, commit: all timed, all inside the request
    assert record.db_statements >= 3
    assert 0 < record.db_ms <= record.duration_ms
    assert not hasattr(record, "db_error")

    # Tenant B asking for A's project: a 404, logged as B's, with B's own id.
    response = await client.get(f"/api/projects/{project['id']}", headers=tenant_b.headers)
    assert response.status_code == 404
    other = only_record_of(caplog, response.headers["x-request-id"])
    assert (other.tenant, other.status) == (str(tenant_b.id), 404)
    assert other.request_id != request_id


async def test_a_sane_request_id_is_kept_and_anything_else_replaced(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="refresh.access")
    given = f"edge-{uuid.uuid4()}:1.2_a"
    response = await client.get("/api/tenant", headers={**tenant_a.headers, "X-Request-Id": given})
    assert response.headers["x-request-id"] == given
    assert only_record_of(caplog, given).route == "/api/tenant"
    for bad in ("has space", "x" * 129, "<script>", "-leading-dash", "a\tb"):
        response = await client.get(
            "/api/tenant", headers={**tenant_a.headers, "X-Request-Id": bad}
        )
        returned = response.headers["x-request-id"]
        assert returned != bad and HEX_ID.fullmatch(returned), bad
        only_record_of(caplog, returned)


async def test_refused_before_routing_and_unknown_paths_keep_labels_bounded(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="refresh.access")
    response = await client.get(f"/api/projects/{uuid.uuid4()}")  # no token
    assert response.status_code == 401
    record = only_record_of(caplog, response.headers["x-request-id"])
    assert (record.route, record.tenant, record.subject) == ("/api/*", None, None)
    response = await client.get(f"/no-such-{uuid.uuid4()}")
    assert response.status_code == 404
    assert only_record_of(caplog, response.headers["x-request-id"]).route == "unmatched"


async def test_a_refused_statement_names_the_request_it_belonged_to(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project = (await new_project(client, tenant_a, "refused"))["id"]
    caplog.set_level(logging.INFO, logger="refresh")
    caplog.handler.addFilter(RequestIdFilter())  # as the JSON handler of the servers does
    superuser_sql(test_database(), "revoke update on project from authenticated")
    try:
        response = await client.patch(
            f"/api/projects/{project}", json={"name": "x"}, headers=tenant_a.headers
        )
    finally:
        superuser_sql(test_database(), "grant update on project to authenticated")
    assert response.status_code == 403
    request_id = response.headers["x-request-id"]
    [refusal] = [r for r in caplog.records if r.name == "refresh.db"]
    assert refusal.request_id == request_id  # type: ignore[attr-defined]
    assert "piccolo rls check" in refusal.getMessage()
    line = only_record_of(caplog, request_id)
    assert (line.status, line.db_error) == (403, "InsufficientPrivilegeError")
    assert line.tenant == str(tenant_a.id)


async def test_a_slow_request_is_logged_again_with_its_statements(
    app: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import create_app
    from settings import get_settings

    # An app whose threshold every request passes; it shares the running pools.
    monkeypatch.setattr(get_settings(), "slow_request_ms", 1)
    slow_app = create_app()
    caplog.set_level(logging.INFO, logger="refresh")
    transport = httpx.ASGITransport(app=slow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://refresh.test") as client:
        response = await client.get("/api/projects", headers=tenant_a.headers)
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    [slow] = [r for r in caplog.records if r.name == "refresh.slow"]
    assert slow.levelno == logging.WARNING
    assert slow.request_id == request_id  # type: ignore[attr-defined]
    assert slow.getMessage().startswith("slow request: GET /api/projects took ")
    statements = slow.statements  # type: ignore[attr-defined]
    assert any("project" in s["sql"] for s in statements)  # the list's select
    assert all(s["ms"] >= 0 for s in statements)
    assert len(statements) == only_record_of(caplog, request_id).db_statements
    # the opening statement is there, without the token's claims it carries as literals
    [opening] = [s["sql"] for s in statements if "auth.begin_request(" in s["sql"]]
    assert opening == "BEGIN READ ONLY; select auth.begin_request(...)"
    assert not any('"sub"' in s["sql"] or "authenticated" in s["sql"] for s in statements)
