"""The placement migrations on Citus (TEST_CITUS=1, `make test-citus`): the suite's
database was migrated by `piccolo migrations forwards all` alone (tests/conftest.py), so
every table is where it is because the placement migrations put it there; a placement
migration does not undo itself there."""

from __future__ import annotations

import os
import uuid
from typing import Any

import asyncpg
import pytest

from tests.database import piccolo
from tests.request_sql import request_transaction

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS"), reason="needs the suite on Citus (make test-citus)"
)


async def test_forwards_alone_placed_every_declared_table(app: Any) -> None:
    from refresh.schema.distribution import live_placements
    from refresh.schema.placement import placement_of_apps
    from refresh.tenancy.declarations import Distribution

    placements = await live_placements()
    declared = placement_of_apps(declared=True)
    placed = {table: placements.get(table, Distribution.local).value for table in declared}
    assert declared and placed == declared
    # and nothing is left for the command that does the same by hand
    dry_run = piccolo("rls", "distribute", "--dry_run")
    assert dry_run.stdout.strip() == "every declared table is where its declaration puts it"


async def test_a_placement_migration_does_not_undo_itself_on_citus(app: Any) -> None:
    from refresh.schema.distribution import live_placements
    from refresh.schema.placement import PlacementError, placement_of_apps, refuse_backwards

    before = await live_placements()
    with pytest.raises(PlacementError, match="does not undo itself on Citus"):
        await refuse_backwards(placement_of_apps(declared=True), {})
    assert await live_placements() == before


async def test_a_new_tenant_table_on_a_distributed_cluster_is_sharded_before_its_keys(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    """Tables added after the first deployment: Piccolo's migration makes them on the
    coordinator, and their RLS migration (the SQL `piccolo rls new` writes) makes the
    global one a reference table and shards the tenant one by tenant, colocated, before
    its composite key to a sharded table, which Citus refuses from a table of the
    coordinator (`... foreign keys from reference tables and local tables to distributed
    tables are not supported`). Then both tenants' requests on the shards: each sees and
    writes its own gizmos only."""
    from piccolo.columns import UUID, ForeignKey
    from piccolo.columns.defaults.uuid import UUID4
    from piccolo.table import Table

    from apps.projects.tables import Project
    from refresh.db.clients import write_client
    from refresh.schema.distribution import live_colocations, live_placements
    from refresh.schema.migration_sql import execute, render
    from refresh.schema.sqlgen import state_sql
    from refresh.schema.state import table_state
    from refresh.tenancy.columns import TenantForeignKey
    from refresh.tenancy.declarations import Distribution, global_table
    from refresh.tenancy.tables import ReadClientTable, TenantTable

    class Shade(ReadClientTable, Table):
        id = UUID(primary_key=True, default=UUID4())
        rls = global_table("shades, the same for every tenant")

    class Gizmo(TenantTable, Table):
        id = UUID(primary_key=True, default=UUID4())
        project_id = TenantForeignKey(Project)
        shade_id = ForeignKey(Shade, null=True)

    state = {name: table_state(t.rls, t) for name, t in (("shade", Shade), ("gizmo", Gizmo))}
    script = render(state_sql({}, state))
    assert "create_distributed_table" in script
    try:
        async with write_client.transaction():  # as `forwards` runs the two migrations
            for ddl in [*Shade.create_table().ddl, *Gizmo.create_table().ddl]:
                await write_client.execute(ddl)
            await execute(script)  # as the RLS migration runs it
        placements, colocations = await live_placements(), await live_colocations()
        assert placements["shade"] is Distribution.reference
        assert placements["gizmo"] is Distribution.by_tenant
        assert colocations["gizmo"] == colocations["project"]
        keys = await write_client.fetch(
            "select pg_get_constraintdef(oid) as definition from pg_constraint"
            " where conrelid = 'gizmo'::regclass and contype = 'f' order by 1"
        )
        assert [k["definition"] for k in keys] == [
            "FOREIGN KEY (shade_id) REFERENCES shade(id) ON UPDATE CASCADE ON DELETE CASCADE",
            "FOREIGN KEY (tenant_id) REFERENCES tenant(id) ON DELETE CASCADE",
            "FOREIGN KEY (tenant_id, project_id) REFERENCES project(tenant_id, id)"
            " ON DELETE CASCADE",
        ]
        await two_tenants_on_the_shards(tenant_a, tenant_b)
    finally:
        await write_client.execute("drop table if exists gizmo, shade cascade")


async def as_tenant(tenant: Any, sql: str, *args: Any) -> Any:
    """One statement in a request transaction of the tenant's member (the read client)."""
    async with request_transaction(tenant) as connection:
        return await connection.fetchval(sql, *args)


async def two_tenants_on_the_shards(tenant_a: Any, tenant_b: Any) -> None:
    """The new table's policies, grants, tenant default and composite key hold on the
    shards: A writes a gizmo of its project; B's project, or B's tenant, is refused to A;
    B sees none of A's gizmos and cannot change them."""
    from refresh.db.clients import write_client

    projects = {}
    for tenant in (tenant_a, tenant_b):
        projects[tenant.slug] = uuid.uuid4()
        await write_client.execute(
            f"insert into project (id, tenant_id, name) values ('{projects[tenant.slug]}',"
            f" '{tenant.id}', 'gizmo test')"
        )
    mine = await as_tenant(
        tenant_a, "insert into gizmo (project_id) values ($1) returning id", projects[tenant_a.slug]
    )
    # the audit trigger the same migration made fires on the shard: A's entry, under the
    # table's name (not the shard's), readable by A only
    audited = (
        "select count(*) from audit_log where tenant_id = $1 and table_name = 'gizmo'"
        " and row_id = $2 and action = 'insert'"
    )
    assert await as_tenant(tenant_a, audited, tenant_a.id, str(mine)) == 1
    assert await as_tenant(tenant_b, audited, tenant_a.id, str(mine)) == 0
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await as_tenant(
            tenant_a, "insert into gizmo (project_id) values ($1)", projects[tenant_b.slug]
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # the policy's WITH CHECK
        await as_tenant(
            tenant_a,
            "insert into gizmo (tenant_id, project_id) values ($1, $2)",
            tenant_b.id,
            projects[tenant_b.slug],
        )
    # Reads and deletes name a tenant, as the app's do (the suite refuses a query that
    # fans out to every shard); B naming A's tenant reaches A's shard, and RLS there.
    count = "select count(*) from gizmo where tenant_id = $1"
    assert await as_tenant(tenant_a, count + " and id = $2", tenant_a.id, mine) == 1
    assert await as_tenant(tenant_b, count, tenant_a.id) == 0
    assert await as_tenant(tenant_b, count, tenant_b.id) == 0
    delete = "with d as (delete from gizmo where tenant_id = $1 returning 1) select count(*) from d"
    assert await as_tenant(tenant_b, delete, tenant_a.id) == 0
    assert await as_tenant(tenant_a, count, tenant_a.id) == 1
