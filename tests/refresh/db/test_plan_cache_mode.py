"""auth.begin_request forces generic plans for API requests only (one server): the admin's
filters and sorts are chosen by its users, and a generic plan, which assumes a tenant of
average size, sorted a large tenant's every row where an index read in order 25."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import TenantFixture

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="one server only: on Citus, auth.begin_request forces no plans at all",
)


def request_of(tenant: TenantFixture, channel: str) -> Any:
    from refresh.db.claims import Channel, build_claims
    from refresh.db.engines import READ_DB
    from refresh.db.transaction import RequestTransaction

    claims = build_claims(
        {"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)}, Channel(channel)
    )
    return RequestTransaction(READ_DB, claims, "authenticated", read_only=True)


@pytest.mark.parametrize(
    ("channel", "mode"), [("api", "force_generic_plan"), ("admin", "force_custom_plan")]
)
async def test_each_channel_plans_as_intended(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture, channel: str, mode: str
) -> None:
    for tenant in (tenant_a, tenant_b):
        async with request_of(tenant, channel) as transaction:
            setting = await transaction.connection.fetchval("show plan_cache_mode")
        assert setting == mode, (tenant.slug, channel)


async def test_a_large_tenants_broad_filter_sorted_by_due_date_reads_the_index_in_the_admin(
    app: Any, tenant_a: TenantFixture
) -> None:
    """The admin bench's slowest request: a title filter that matches nearly every row,
    sorted by due date, page 1. Prepared and run as often as PostgreSQL needs to consider
    a generic plan, in an admin request, on a tenant far above the average size: it must
    stay an ordered index read of 25 rows, never a sort of all of them."""
    from refresh.db.clients import write_client
    from tests.conftest import make_tenant

    big = await make_tenant("plans-big")
    bulk = (
        "with p as (insert into project (tenant_id, name) values ($1, 'bulk') returning id)"
        " insert into task (tenant_id, project_id, title, due_at)"
        " select $1, p.id, 'bulk entry ' || n, now() + n * interval '1 minute'"
        " from p, generate_series(1, 20000) n"
    )
    async with write_client.transaction():
        await write_client.execute("set local refresh.audit = 'off'")
        await write_client.fetch(bulk, big.id)
    # The planner told what a real database looks like: a thousand tenants, so that a
    # generic plan expects a tenant of 1/1000 of the table and this one is far above it
    # (the test database has only a few, which would make every tenant look large).
    await write_client.execute("alter table task alter column tenant_id set (n_distinct = 1000)")
    await write_client.execute("analyze task")
    page = (
        "select id, title from task where tenant_id = $1 and title ilike $2"
        " order by due_at desc limit 25"
    )
    try:
        async with request_of(big, "admin") as transaction:
            connection = transaction.connection
            await connection.execute(f"prepare broad_page(uuid, text) as {page}")
            execute = f"execute broad_page('{big.id}', '%e%')"
            for _ in range(6):  # the sixth execution is the first that may go generic
                assert len(await connection.fetch(execute)) == 25
            plan = "\n".join(r[0] for r in await connection.fetch(f"explain {execute}"))
            await connection.execute("deallocate broad_page")
        assert "Sort" not in plan and "Index Scan Backward" in plan, plan
    finally:
        async with write_client.transaction():
            await write_client.execute("set local refresh.audit = 'off'")
            await write_client.fetch("delete from task where tenant_id = $1", big.id)
            await write_client.fetch("delete from project where tenant_id = $1", big.id)
        await write_client.execute("alter table task alter column tenant_id reset (n_distinct)")
        await write_client.execute("analyze task")
