"""The request transaction: role and claims, READ ONLY reads, commit/rollback, clean pool."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from apps.projects.tables import Project
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB
from settings import get_settings


async def count_named(name: str) -> int:
    return await write_client.run(Project.count().where(Project.name == name))


async def test_request_runs_as_authenticated_with_the_callers_claims(client, tenant_a):
    response = await client.post("/api/_test/session", headers=tenant_a.headers)
    assert response.json() == {
        "role": get_settings().authenticated_role,
        "tenant_id": str(tenant_a.id),
        "user_id": "tenant-a-member",
        "read_only": "off",
    }
    get = await client.get("/api/_test/session", headers=tenant_a.headers)
    assert get.json()["read_only"] == "on"


async def test_exception_after_a_write_rolls_it_back(client, tenant_a):
    name = f"raise-{uuid.uuid4()}"
    response = await client.post(
        f"/api/_test/write-then-raise?name={name}", headers=tenant_a.headers
    )
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal server error"}
    }
    assert await count_named(name) == 0


async def test_error_status_after_a_write_rolls_it_back(client, tenant_a):
    name = f"reject-{uuid.uuid4()}"
    response = await client.post(
        f"/api/_test/write-then-reject?name={name}", headers=tenant_a.headers
    )
    assert response.status_code == 400
    assert await count_named(name) == 0


async def test_get_runs_read_only(client, tenant_a, caplog):
    name = f"get-{uuid.uuid4()}"
    response = await client.get(f"/api/_test/write-in-get?name={name}", headers=tenant_a.headers)
    assert response.status_code == 500
    assert "read-only" not in response.text  # no SQL or server message leaks
    assert await count_named(name) == 0
    # the developer's log says what to change
    [line] = [r.getMessage() for r in caplog.records if r.name == "refresh.errors"]
    assert line == (
        "GET /api/_test/write-in-get wrote in its READ ONLY transaction: GET and HEAD requests"
        " run read-only (refresh/web/middleware.py); write from a POST, PUT, PATCH or DELETE"
        " route"
    )


async def test_database_refuses_a_row_for_another_tenant(tenant_a, tenant_b):
    """Even a handler bug that names A's tenant cannot write into A as B (WITH CHECK)."""
    from refresh.db.claims import Channel, build_claims
    from refresh.db.transaction import RequestTransaction

    claims = build_claims({"sub": "tenant-b-member", "tenant_id": str(tenant_b.id)}, Channel.api)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with RequestTransaction(READ_DB, claims, get_settings().authenticated_role, False):
            await Project.insert(Project(tenant_id=tenant_a.id, name="forged"))
    assert await count_named("forged") == 0


async def test_pool_connections_are_clean_after_many_requests(client, tenant_a, tenant_b):
    async def one(i: int) -> int:
        tenant = (tenant_a, tenant_b)[i % 2]
        if i % 5 == 0:
            path = f"/api/_test/write-then-raise?name=pool-{i}"
            return (await client.post(path, headers=tenant.headers)).status_code
        if i % 7 == 0:
            return (
                await client.get("/api/projects", headers={"Authorization": "Bearer x"})
            ).status_code
        return (await client.get("/api/projects", headers=tenant.headers)).status_code

    statuses = await asyncio.gather(*(one(i) for i in range(200)))
    assert {500, 401, 200} == set(statuses)

    pool = READ_DB.pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for connection in connections:
            row = await connection.fetchrow(
                "select current_user as role, "
                "coalesce(current_setting('request.jwt.claims', true), '') as claims"
            )
            assert row["role"] == get_settings().authenticator_role
            assert row["claims"] == ""
    finally:
        for connection in connections:
            await pool.release(connection)


async def test_read_pool_outside_a_request_sees_nothing(client, tenant_a):
    await client.post("/api/projects", json={"name": "secret"}, headers=tenant_a.headers)
    assert await write_client.run(Project.count()) > 0
    try:
        rows = await Project.select().run()
    except asyncpg.InsufficientPrivilegeError:
        return  # the authenticator has no grants: an error, never data
    assert rows == []
