"""Parallel plans under the policies (migration rls 2026-12-05T12:00): the claim readers
the policies call are PARALLEL SAFE, so an admin request's large count may run in parallel
workers, and a worker filters by the same claims as its leader: each tenant counts its own
rows through workers, never the other's, and nothing without claims. API requests stay
serial (auth.begin_request), whatever the costs say.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import TenantFixture
from tests.refresh.db.test_plan_cache_mode import request_of

one_server_only = pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="one server only: Citus plans a distributed query with its own executor",
)

# Parallelism made free, so that the planner picks it for the test database's few rows
# (on real data the costs decide: bench/RESULTS.md has the admin's counts at 2M tasks).
PARALLEL_FOR_ANY_SIZE = (
    "set local parallel_setup_cost = 0",
    "set local parallel_tuple_cost = 0",
    "set local min_parallel_table_scan_size = 0",
    "set local min_parallel_index_scan_size = 0",
    "set local enable_indexscan = off",
    "set local enable_indexonlyscan = off",
    "set local enable_bitmapscan = off",
)

COUNT = "select count(*) from task"


def workers_launched(plan: list[str]) -> int:
    lines = [line.strip() for line in plan if "Workers Launched" in line]
    return sum(int(line.rsplit(":", 1)[1]) for line in lines)


@one_server_only
@pytest.mark.parametrize(("channel", "parallel"), [("admin", True), ("api", False)])
async def test_each_tenant_counts_its_own_rows_in_parallel_in_the_admin_only(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture, channel: str, parallel: bool
) -> None:
    from refresh.db.clients import write_client

    own_task = (
        "with p as (insert into project (tenant_id, name) values ($1, 'parallel') returning id)"
        " insert into task (tenant_id, project_id, title)"
        " select $1, p.id, 'parallel ' || n from p, generate_series(1, $2::int) n"
    )
    added = {tenant_a.slug: 3, tenant_b.slug: 5}  # different, so a swap would show
    async with write_client.transaction():  # unaudited, as their removal below
        await write_client.execute("set local refresh.audit = 'off'")
        for tenant in (tenant_a, tenant_b):
            await write_client.fetch(own_task, tenant.id, added[tenant.slug])
    try:
        for tenant in (tenant_a, tenant_b):
            [row] = await write_client.fetch(
                "select count(*) from task where tenant_id = $1", tenant.id
            )
            expected = row["count"]
            assert expected >= added[tenant.slug]
            async with request_of(tenant, channel) as transaction:
                connection = transaction.connection
                for setting in PARALLEL_FOR_ANY_SIZE:
                    await connection.execute(setting)
                rows = await connection.fetch(f"explain (analyze, costs off) {COUNT}")
                plan = [row[0] for row in rows]
                assert (workers_launched(plan) >= 1) is parallel, "\n".join(plan)
                assert await connection.fetchval(COUNT) == expected, tenant.slug
                # without claims a worker, like its leader, counts nothing
                await connection.execute("set local request.jwt.claims = ''")
                await connection.execute("set local request.tenant_id = ''")
                assert await connection.fetchval(COUNT) == 0
    finally:
        for tenant in (tenant_a, tenant_b):
            async with write_client.transaction():
                await write_client.execute("set local refresh.audit = 'off'")
                await write_client.fetch(
                    "delete from task where tenant_id = $1 and title like 'parallel %'",
                    tenant.id,
                )
                await write_client.fetch(
                    "delete from project where tenant_id = $1 and name = 'parallel'", tenant.id
                )


@one_server_only
async def test_the_claim_readers_of_the_policies_are_parallel_safe(app: Any) -> None:
    """Redefining one of them without PARALLEL SAFE (CREATE OR REPLACE resets it) would
    turn every query on a tenant table serial again."""
    from refresh.db.clients import write_client

    rows = await write_client.fetch(
        "select proname, proparallel::text as proparallel from pg_proc"
        " where pronamespace = 'auth'::regnamespace"
        " and proname = any('{jwt,tenant_id,user_id,tenant_role}'::text[])"
    )
    assert {r["proname"]: r["proparallel"] for r in rows} == {
        "jwt": "s",
        "tenant_id": "s",
        "user_id": "s",
        "tenant_role": "s",
    }
