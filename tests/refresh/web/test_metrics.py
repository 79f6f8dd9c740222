"""/metrics (refresh/web/metrics.py): requests by route template and status, latency,
database time, pools and failed statements by class; no label that names a tenant or an
id; closed by METRICS_TOKEN, and absent in production without one."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from refresh.db.engines import READ_DB
from settings import get_settings
from tests.apps.tasks.support import new_project
from tests.database import superuser_sql, test_database

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def scrape(client: Any) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return response.text, samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_route_template_and_status(
    client: Any, tenant_a: Any, tenant_b: Any
) -> None:
    project = await new_project(client, tenant_a, "measured")
    route = {"route": "/api/projects/{id}", "method": "GET"}
    _, before = await scrape(client)
    for tenant, status in ((tenant_a, "200"), (tenant_b, "404"), (tenant_a, "200")):
        response = await client.get(f"/api/projects/{project['id']}", headers=tenant.headers)
        assert str(response.status_code) == status
    text, after = await scrape(client)
    counted = "refresh_http_requests_total"
    assert (
        value(after, counted, **route, status="200") - value(before, counted, **route, status="200")
        == 2
    )
    assert (
        value(after, counted, **route, status="404") - value(before, counted, **route, status="404")
        == 1
    )
    latency = "refresh_http_request_duration_seconds_count"
    assert (
        value(after, latency, **route, status="200") - value(before, latency, **route, status="200")
        == 2
    )
    db_time = "refresh_http_request_db_seconds_total"
    assert value(after, db_time, route="/api/projects/{id}") > value(
        before, db_time, route="/api/projects/{id}"
    )
    # Nothing in it names a tenant, a row or anyone: no UUID at all, no tenant slug.
    assert not UUID.search(text)
    for tenant in (tenant_a, tenant_b):
        assert str(tenant.id) not in text and tenant.slug not in text


async def test_pools_are_shown(client: Any) -> None:
    _, samples = await scrape(client)
    assert value(samples, "refresh_db_pool_size", pool="read") >= 1
    assert value(samples, "refresh_db_pool_max", pool="read") == get_settings().read_pool_max_size
    assert value(samples, "refresh_db_pool_max", pool="write") == get_settings().write_pool_max_size
    assert value(samples, "refresh_db_pool_waiting", pool="read") == 0
    # the scrape itself holds no connection
    assert value(samples, "refresh_db_pool_in_use", pool="read") == 0


async def test_pool_gauges_follow_held_and_waiting_connections(client: Any) -> None:
    """A full pool shows as such: every connection lent out, and an acquire waiting (the
    gauges must move, not sit at 0); once they are given back, both are 0 again."""
    pool: Any = READ_DB.pool
    assert pool is not None
    most = pool.get_max_size()
    held = [await pool.acquire() for _ in range(most)]

    async def take() -> Any:
        return await pool.acquire(timeout=30)

    waiter = asyncio.create_task(take())
    try:
        for _ in range(100):
            if pool.waiting:
                break
            await asyncio.sleep(0.01)
        _, samples = await scrape(client)
        assert value(samples, "refresh_db_pool_size", pool="read") == most
        assert value(samples, "refresh_db_pool_in_use", pool="read") == most
        assert value(samples, "refresh_db_pool_waiting", pool="read") == 1
        await pool.release(held.pop())
        held.append(await asyncio.wait_for(waiter, 10))  # the waiter got that connection
    finally:
        waiter.cancel()
        for connection in held:
            await pool.release(connection)
    _, samples = await scrape(client)
    assert value(samples, "refresh_db_pool_in_use", pool="read") == 0
    assert value(samples, "refresh_db_pool_waiting", pool="read") == 0


async def test_failed_statements_are_counted_by_class(client: Any, tenant_a: Any) -> None:
    project = (await new_project(client, tenant_a, "denied"))["id"]
    error = {"error": "InsufficientPrivilegeError"}
    _, before = await scrape(client)
    superuser_sql(test_database(), "revoke delete on project from authenticated")
    try:
        response = await client.delete(f"/api/projects/{project}", headers=tenant_a.headers)
    finally:
        superuser_sql(test_database(), "grant delete on project to authenticated")
    assert response.status_code == 403
    _, after = await scrape(client)
    errors = "refresh_db_errors_total"
    assert value(after, errors, **error) - value(before, errors, **error) == 1


async def test_a_metrics_token_closes_the_endpoint(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = uuid.uuid4().hex
    monkeypatch.setattr(get_settings(), "metrics_token", token)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "unauthorized"
        assert "refresh_http" not in response.text
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "refresh_http_requests_total" in response.text


async def test_production_without_a_token_has_no_metrics(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "environment", "production")
    monkeypatch.setattr(get_settings(), "metrics_token", None)
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert "refresh_http" not in response.text
