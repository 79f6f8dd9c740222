"""A tenant far above the average size, for the tests of how requests are planned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.conftest import TenantFixture, make_tenant

TASKS = 20_000

BULK = (
    "with p as (insert into project (tenant_id, name) values ($1, 'bulk') returning id)"
    " insert into task (tenant_id, project_id, title, due_at)"
    " select $1, p.id, 'bulk entry ' || n, now() + n * interval '1 minute'"
    f" from p, generate_series(1, {TASKS}) n"
)


@asynccontextmanager
async def large_tenant(slug: str) -> AsyncIterator[TenantFixture]:
    """A new tenant with TASKS tasks in one project (titled 'bulk entry N', due a minute
    apart), the table analyzed; its rows are deleted afterwards (unaudited both ways)."""
    from refresh.db.clients import write_client

    tenant = await make_tenant(slug)
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        await write_client.fetch(BULK, tenant.id)
    await write_client.execute("analyze task")
    try:
        yield tenant
    finally:
        async with write_client.transaction():
            await write_client.execute("set local refresh.audit = 'off'")
            await write_client.fetch("delete from task where tenant_id = $1", tenant.id)
            await write_client.fetch("delete from project where tenant_id = $1", tenant.id)
