"""auth.begin_request forces generic plans for API requests only (one server): the admin's
filters and sorts are chosen by its users, and a generic plan, which assumes a tenant of
average size, sorted a large tenant's every row where an index read in order 25. The
API's task list with filters asks for custom plans the same way (plan_for_values)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import TenantFixture

one_server_only = pytest.mark.skipif(
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


@one_server_only
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


@one_server_only
async def test_a_large_tenants_broad_filter_sorted_by_due_date_reads_the_index_in_the_admin(
    app: Any, tenant_a: TenantFixture
) -> None:
    """The admin bench's slowest request: a title filter that matches nearly every row,
    sorted by due date, page 1. Prepared and run as often as PostgreSQL needs to consider
    a generic plan, in an admin request, on a tenant far above the average size: it must
    stay an ordered index read of 25 rows, never a sort of all of them."""
    from refresh.db.clients import write_client
    from tests.large_tenant import large_tenant

    page = (
        "select id, title from task where tenant_id = $1 and title ilike $2"
        " order by due_at desc limit 25"
    )
    async with large_tenant("plans-big") as big:
        # The planner told what a real database looks like: a thousand tenants, so that a
        # generic plan expects a tenant of 1/1000 of the table and this one is far above
        # it (the test database has only a few, which would make every tenant look large).
        await write_client.execute(
            "alter table task alter column tenant_id set (n_distinct = 1000)"
        )
        await write_client.execute("analyze task")
        try:
            async with request_of(big, "admin") as transaction:
                connection = transaction.connection
                await connection.execute(f"prepare broad_page(uuid, text) as {page}")
                execute = f"execute broad_page('{big.id}', '%e%')"
                for _ in range(6):  # the sixth execution is the first that may go generic
                    assert len(await connection.fetch(execute)) == 25
                plan = "\n".join(r[0] for r in await connection.fetch(f"explain {execute}"))
                await connection.execute("deallocate broad_page")
        finally:
            await write_client.execute("alter table task alter column tenant_id reset (n_distinct)")
            await write_client.execute("analyze task")
    assert "Sort" not in plan and "Index Scan Backward" in plan, plan


async def sorting_after(tenant: TenantFixture, query: Any) -> str:
    """enable_sort in an API request after one task list of `query`."""
    from apps.tasks.queries import list_tasks

    async with request_of(tenant, "api") as transaction:
        await list_tasks(query)
        return str(await transaction.connection.fetchval("show enable_sort"))


async def test_a_search_is_read_in_index_order_other_lists_may_sort(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    """Under RLS the planner guesses a search term's matches from its length (ILIKE is
    not leakproof, so no statistics): a search turns sorting off, other lists keep it."""
    from apps.tasks.schemas import TaskListQuery
    from apps.tasks.tables import TaskStatus

    for tenant in (tenant_a, tenant_b):
        assert await sorting_after(tenant, TaskListQuery(q="invoice", sort="priority")) == "off"
        assert await sorting_after(tenant, TaskListQuery(status=[TaskStatus.todo])) == "on"
        assert await sorting_after(tenant, TaskListQuery()) == "on"


async def plan_counts(connection: Any) -> dict[str, tuple[int, int, str]]:
    """The connection's prepared statements of task: generic and custom plans so far."""
    rows = await connection.fetch(
        "select name, generic_plans, custom_plans, statement from pg_prepared_statements"
        " where statement like '%FROM \"task\"%'"
    )
    return {r["name"]: (r["generic_plans"], r["custom_plans"], r["statement"]) for r in rows}


def kind_of(statement: str) -> str:
    if "ILIKE" in statement:
        return "search"
    return "status" if " IN " in statement else "plain"


@one_server_only
async def test_a_filtered_task_list_is_planned_for_its_values_the_plain_list_once(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    """Seen on the server: the API transaction's prepared statements, after each list ran
    more often than PostgreSQL needs to consider a generic plan. The plain first page
    keeps its generic plan (planned once, bench/RESULTS.md); a filtered list is planned
    for its values each time (a generic plan sorted all of bench-big's tasks for `q=e`).
    Each tenant's search finds its own task and only that."""
    from apps.tasks.queries import list_tasks
    from apps.tasks.schemas import TaskListQuery
    from apps.tasks.tables import TaskStatus
    from refresh.db.clients import write_client

    own_task = (
        "with p as (insert into project (tenant_id, name) values ($1, 'plans') returning id)"
        " insert into task (tenant_id, project_id, title) select $1, p.id, $2 from p"
    )
    for tenant in (tenant_a, tenant_b):
        await write_client.fetch(own_task, tenant.id, f"planned search {tenant.slug}")
    try:
        for tenant in (tenant_a, tenant_b):
            async with request_of(tenant, "api") as transaction:
                before = await plan_counts(transaction.connection)
                for _ in range(6):  # first: a filtered list's plans last till COMMIT
                    await list_tasks(TaskListQuery())
                for _ in range(6):
                    found = await list_tasks(TaskListQuery(q="planned search", sort="due_at"))
                    await list_tasks(TaskListQuery(status=[TaskStatus.todo]))
                after = await plan_counts(transaction.connection)
            assert [t["title"] for t in found["data"]] == [f"planned search {tenant.slug}"]
            # what these lists ran (the connection's statements outlive a request)
            counts = {
                kind_of(statement): (
                    generic - before.get(name, (0, 0, ""))[0],
                    custom - before.get(name, (0, 0, ""))[1],
                )
                for name, (generic, custom, statement) in after.items()
                if (generic, custom, statement) != before.get(name)
            }
            assert set(counts) == {"plain", "search", "status"}, counts
            # generic only (PostgreSQL 15 counts the generic plan once, 18 every use)
            assert counts["plain"][0] >= 1 and counts["plain"][1] == 0, counts
            assert counts["search"] == counts["status"] == (0, 6), counts
    finally:
        for tenant in (tenant_a, tenant_b):
            await write_client.fetch(
                "delete from project where tenant_id = $1 and name = 'plans'", tenant.id
            )


async def test_outside_a_request_plans_are_left_to_postgresql(app: Any) -> None:
    from refresh.db.clients import write_client
    from refresh.db.transaction import plan_for_values

    async with write_client.transaction():
        await plan_for_values(write_client.engine)
        rows = await write_client.fetch("select current_setting('plan_cache_mode') as mode")
    assert rows[0]["mode"] == "auto"
