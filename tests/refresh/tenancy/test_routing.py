"""Router queries on one server: every query of a tenant table inside a request names the
request's tenant as a constant (joined tenant tables too); outside a request, a write by
id looks its tenant up first; a tenant_id among an update's values is a filter, never a
move. (On Citus, tests/citus/test_router_queries.py shows these plans are one shard.)"""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import TenantFixture


def request_of(tenant: TenantFixture) -> Any:
    from refresh.db.claims import Channel, build_claims
    from refresh.db.engines import READ_DB
    from refresh.db.transaction import RequestTransaction

    claims = build_claims(
        {"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)}, Channel.api
    )
    return RequestTransaction(READ_DB, claims, "authenticated", read_only=False)


async def test_a_requests_queries_name_its_tenant(app: Any, tenant_a: TenantFixture) -> None:
    from apps.tasks.queries import COLUMNS
    from apps.tasks.tables import Task

    async with request_of(tenant_a):
        queries = [
            Task.select(*COLUMNS),
            Task.count(),
            Task.exists(),
            Task.update({Task.priority: 1}).where(Task.id == uuid.uuid4()),
            Task.delete().where(Task.id == uuid.uuid4()),
        ]
        rendered = [str(q) for q in queries]
    constant = f"'{tenant_a.id}'"
    for sql in rendered:
        assert f'"task"."tenant_id" = {constant}' in sql, sql
    # the joined project and assignee are pinned too, keeping a task without assignee
    joins = rendered[0]
    assert f'"task$project_id"."tenant_id" = {constant}' in joins
    assert '"task$assignee_id"."tenant_id" IS NULL' in joins


async def test_outside_a_request_nothing_is_pinned_but_joins(app: Any) -> None:
    from apps.tasks.queries import COLUMNS
    from apps.tasks.tables import Task

    sql = str(Task.select(*COLUMNS))
    assert '"task"."tenant_id" = \'' not in sql
    assert '"task$project_id"."tenant_id" = "task"."tenant_id"' in sql


async def test_a_write_by_id_outside_a_request_looks_up_its_tenant(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    from apps.projects.tables import Project
    from refresh.db.clients import write_client

    [row] = await write_client.fetch(
        "insert into project (tenant_id, name) values ($1, 'routed') returning id", tenant_a.id
    )
    async with write_client.transaction():
        update = Project.update({Project.description: "by an operator"}).where(
            Project.id == row["id"]
        )
        await write_client.run(update)
        assert f'"project"."tenant_id" = \'{tenant_a.id}\'' in str(update)
        delete = Project.delete().where(Project.id == row["id"])
        await write_client.run(delete)
        assert f'"project"."tenant_id" = \'{tenant_a.id}\'' in str(delete)
    assert not await write_client.fetch("select 1 from project where id = $1", row["id"])


async def test_an_update_never_moves_a_row_to_another_tenant(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    from apps.projects.tables import Project
    from refresh.db.clients import write_client

    [row] = await write_client.fetch(
        "insert into project (tenant_id, name) values ($1, 'stays') returning id", tenant_a.id
    )
    async with write_client.transaction():
        moved = await write_client.run(
            Project.update({Project.tenant_id: tenant_b.id, Project.name: "x"})
            .where(Project.id == row["id"])
            .returning(Project.id)
        )
        kept = await write_client.run(
            Project.update({Project.tenant_id: tenant_a.id, Project.name: "y"})
            .where(Project.id == row["id"])
            .returning(Project.id)
        )
    assert moved == [] and len(kept) == 1  # another tenant's value matches no row
    [after] = await write_client.fetch(
        "select tenant_id, name from project where id = $1", row["id"]
    )
    assert (after["tenant_id"], after["name"]) == (tenant_a.id, "y")
