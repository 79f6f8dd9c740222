"""Router queries on one server: every query of a tenant table inside a request names the
request's tenant as a constant (joined tenant tables too); outside a request, a write by
id looks its tenant up first; a tenant_id among an update's values is a filter, never a
move. (On Citus, tests/citus/test_router_queries.py shows these plans are one shard.)"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

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
    # the joined project and assignee are joined on the tenant too, in the join's ON
    # clause (a task without assignee keeps its row; the generic plan is not misled)
    joins = rendered[0]
    for alias, key in (("task$project_id", "project_id"), ("task$assignee_id", "assignee_id")):
        assert (
            f'"{alias}" ON ("task"."{key}" = "{alias}"."id" '
            f'AND "{alias}"."tenant_id" = "task"."tenant_id")'
        ) in joins
    assert "IS NULL" not in joins


async def test_outside_a_request_nothing_is_pinned_but_joins(app: Any) -> None:
    from apps.tasks.queries import COLUMNS
    from apps.tasks.tables import Task

    sql = str(Task.select(*COLUMNS))
    assert '"task"."tenant_id" = \'' not in sql
    assert 'AND "task$project_id"."tenant_id" = "task"."tenant_id")' in sql
    # the tenant table itself is global: its join is Piccolo's own
    global_join = str(Task.select(Task.id, Task.tenant_id.slug))
    assert global_join.endswith('ON ("task"."tenant_id" = "task$tenant_id"."id")')


async def test_a_chained_join_pins_each_step_to_its_left_side(app: Any) -> None:
    from apps.tasks.tables import Comment

    sql = str(Comment.select(Comment.id, Comment.task_id.project_id.name))
    assert 'AND "comment$task_id"."tenant_id" = "comment"."tenant_id")' in sql
    # the second step's left side is the first step's alias
    assert (
        'AND "comment$task_id$task$project_id"."tenant_id" = comment$task_id."tenant_id")' in sql
    ), sql


@pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="one server only: on Citus, auth.begin_request keeps custom plans",
)
async def test_a_large_tenants_first_page_is_read_by_index_under_a_generic_plan(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    """A staff list page on a tenant holding most of the table's rows, planned as every
    request is (a generic plan, auth.begin_request): with its joins it must walk the
    primary key for 25 rows, not read and sort the tenant's every row (as it did with the
    joined tenants pinned in the WHERE clause: 3.2 s on the admin bench's 200,000)."""
    from apps.tasks.tables import Task
    from tests.large_tenant import large_tenant

    async with large_tenant("routing-big") as big, request_of(big) as transaction:
        query = (
            Task.select(Task.id, Task.project_id.name, Task.assignee_id.display_name)
            .order_by(Task.id)
            .limit(25)
        )
        sql, args = query.querystrings[0].compile_string()
        connection = transaction.connection
        await connection.execute(f"prepare big_page as {sql}")
        await connection.execute("set local plan_cache_mode = force_generic_plan")
        values = ", ".join(f"'{a}'" if not isinstance(a, int) else str(a) for a in args)
        plan = await connection.fetch(f"explain execute big_page({values})")
        await connection.execute("deallocate big_page")
    text = "\n".join(row[0] for row in plan)
    assert "Sort" not in text and "task_pkey" in text, text


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


def test_a_deep_page_is_not_run_as_a_plain_select() -> None:
    """A routed select's run seeks its deep pages: a frozen query must not skip that run
    (refresh/compat/piccolo_frozen.py, `returns_its_records`); a shallow one may."""
    from apps.tasks.tables import Task
    from refresh.compat.piccolo_frozen import returns_its_records
    from refresh.tenancy.deep_pages import DEEP_OFFSET

    deep = Task.select(Task.id).order_by(Task.id).offset(DEEP_OFFSET).limit(25)
    shallow = Task.select(Task.id).order_by(Task.id).offset(DEEP_OFFSET - 1).limit(25)
    assert not deep.runs_as_select() and not returns_its_records(deep)
    assert shallow.runs_as_select() and returns_its_records(shallow)

    class RunsAgain(type(shallow)):  # type: ignore[misc]
        async def run(self, *args: Any, **kwargs: Any) -> Any:
            return []

    # the inherited runs_as_select speaks for RoutedSelect's run, not for this one
    assert not returns_its_records(RunsAgain(Task).columns(Task.id))


def test_a_deep_page_cannot_be_frozen() -> None:
    """A frozen query keeps its SQL, so a deep page's seek could never happen: freezing
    one is refused with the reason, and the page just above it still freezes."""
    from apps.tasks.tables import Task
    from refresh.compat.piccolo_frozen import FrozenWithParams, Param
    from refresh.tenancy.deep_pages import DEEP_OFFSET

    by_project = Task.select(Task.id).where(Task.project_id == Param("project"))
    with pytest.raises(ValueError, match="cannot be frozen: its OFFSET of 1,000 or more"):
        FrozenWithParams(by_project.order_by(Task.id).offset(DEEP_OFFSET).limit(25))
    shallow = FrozenWithParams(
        Task.select(Task.id)
        .where(Task.project_id == Param("project"))
        .order_by(Task.id)
        .offset(DEEP_OFFSET - 1)
        .limit(25)
    )
    assert shallow.params == {"project"} and f"OFFSET {DEEP_OFFSET - 1}" in shallow.sql


async def test_raw_sql_with_an_or_stays_inside_the_tenant_condition(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    """Raw SQL given to where() is parenthesised: `tenant AND x OR y` would let the OR's
    other side match every tenant's rows (on Citus a query to every shard; outside a
    request, with a tenant_id among an update's values, a write to another tenant)."""
    from piccolo.columns.combination import WhereRaw
    from piccolo.querystring import QueryString

    from apps.projects.tables import Project
    from apps.tasks.tables import Task
    from refresh.db.clients import write_client

    either = "task.priority = 1 OR task.priority = 2"
    async with request_of(tenant_a):
        for query in (
            Task.select(Task.id).where(WhereRaw(either)),
            Task.select(Task.id).where(QueryString(either)),
            Task.count().where(WhereRaw(either)),
            Task.update({Task.priority: 3}).where(WhereRaw(either)),
            Task.delete().where(WhereRaw(either)),
        ):
            assert f"= '{tenant_a.id}' AND (task.priority = 1 OR task.priority = 2))" in str(
                query
            ), str(query)

    insert = "insert into project (tenant_id, name) values ($1, 'or') returning id"
    [a] = await write_client.fetch(insert, tenant_a.id)
    [b] = await write_client.fetch(insert, tenant_b.id)
    async with write_client.transaction():  # an operator's write, no RLS
        touched = await write_client.run(
            Project.update({Project.tenant_id: tenant_a.id, Project.description: "touched"})
            .where(WhereRaw("project.id = {} OR project.id = {}", a["id"], b["id"]))
            .returning(Project.id)
        )
    assert [row["id"] for row in touched] == [a["id"]]
    [left] = await write_client.fetch("select description from project where id = $1", b["id"])
    assert left["description"] != "touched"


async def test_a_write_without_a_filter_is_refused_in_a_request_too(
    app: Any, tenant_a: TenantFixture
) -> None:
    """Piccolo refuses `delete()`/`update()` without a where unless forced; the tenant
    condition routing adds is not the caller's filter, so a forgotten where is refused
    rather than wiping the tenant's rows. Forced, it writes that tenant's rows only."""
    from piccolo.query.methods.delete import DeletionError
    from piccolo.query.methods.update import UpdateError

    from apps.projects.tables import Project
    from refresh.db.clients import write_client

    async with request_of(tenant_a):
        await Project.insert(Project(name="kept", tenant_id=tenant_a.id))
        with pytest.raises(DeletionError):
            await Project.delete()
        with pytest.raises(UpdateError):
            await Project.update({Project.description: "everything"})
        assert await Project.count() >= 1
        forced = await Project.update({Project.description: "forced"}, force=True).returning(
            Project.tenant_id
        )
        assert {row["tenant_id"] for row in forced} == {tenant_a.id}
    async with write_client.transaction():  # outside a request: a tenant among the values
        with pytest.raises(UpdateError):
            await write_client.run(
                Project.update({Project.tenant_id: tenant_a.id, Project.description: "all"})
            )
