"""Edges of the request path: errors raised by COMMIT, and bodies that arrive slowly."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from apps.projects.tables import Project
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB
from settings import get_settings
from tests.database import superuser_sql, test_database


async def test_an_error_at_commit_is_answered_like_the_same_error_earlier(client, tenant_a):
    """A deferred foreign key fails only at COMMIT: 422 as any reference error, nothing
    written, and no connection lost (NOT VALID: existing rows are not checked)."""
    superuser_sql(
        test_database(),
        "create table commit_target (name text primary key); "
        "alter table project add constraint project_commit_fk foreign key (name) "
        "references commit_target (name) deferrable initially deferred not valid",
    )
    try:
        idle_before = READ_DB.pool.get_idle_size()  # type: ignore[union-attr]
        name = f"deferred-{uuid.uuid4()}"
        for _ in range(3):
            response = await client.post(
                "/api/projects", json={"name": name}, headers=tenant_a.headers
            )
            assert response.status_code == 422, response.text
            assert response.json()["error"]["code"] == "not_found"
        assert await write_client.run(Project.count().where(Project.name == name)) == 0
        assert READ_DB.pool.get_idle_size() >= idle_before  # type: ignore[union-attr]
    finally:
        superuser_sql(
            test_database(),
            "alter table project drop constraint project_commit_fk; drop table commit_target",
        )


async def test_slow_bodies_hold_no_database_connection(app, tenant_a, monkeypatch):
    """More slow uploads than the pool has connections, and a normal request still runs."""
    monkeypatch.setattr(get_settings(), "body_read_timeout_seconds", 1.5)
    pool_size = READ_DB.pool.get_max_size()  # type: ignore[union-attr]

    async def never_sends_body():
        await asyncio.sleep(3600)

    async def slow_request() -> int:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/projects",
            "raw_path": b"",
            "root_path": "",
            "query_string": b"",
            "scheme": "http",
            "http_version": "1.1",
            "headers": [
                (b"authorization", f"Bearer {tenant_a.token}".encode()),
                (b"content-type", b"application/json"),
            ],
            "server": ("t", 80),
            "client": ("c", 1),
            "app": app,
        }
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        async def receive():
            await never_sends_body()

        await app(scope, receive, send)
        return sent[0]["status"]

    slow = [asyncio.create_task(slow_request()) for _ in range(pool_size + 5)]
    await asyncio.sleep(0.2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        started = time.monotonic()
        ok = await c.get("/api/projects", headers=tenant_a.headers)
        assert ok.status_code == 200
        assert time.monotonic() - started < 1.0
    assert set(await asyncio.gather(*slow)) == {408}


async def test_a_body_over_the_limit_is_refused_before_a_connection_is_taken(client, tenant_a):
    too_big = b'{"name": "' + b"x" * (get_settings().max_body_bytes + 10) + b'"}'
    response = await client.post(
        "/api/projects",
        content=too_big,
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_nested_json_cursor_is_422(client, tenant_a):
    import base64

    cursor = base64.urlsafe_b64encode(b"[" * 3000).decode().rstrip("=")[:500]
    response = await client.get(f"/api/projects?cursor={cursor}", headers=tenant_a.headers)
    assert response.status_code == 422
