"""FrozenWithParams: a Piccolo query compiled once and run with new values, exactly as
Piccolo runs the same query unfrozen (same SQL, same rows, under RLS in the request's
transaction). Fails if Piccolo changes where a frozen query keeps its compiled SQL."""

from __future__ import annotations

import copy
import uuid
from dataclasses import fields
from typing import Any

import pytest
from piccolo.query.methods.select import Select
from piccolo.query.mixins import CallbackType, Output

from apps.projects.tables import Project
from apps.tasks.queries import COLUMNS, by_id, fetch_task, list_tasks, unfiltered_page
from apps.tasks.schemas import TaskListQuery
from apps.tasks.tables import Task
from refresh.compat.piccolo_frozen import (
    PROCESSING,
    FrozenWithParams,
    Param,
    Snapshot,
    returns_its_records,
)
from refresh.db.claims import Channel, build_claims
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB
from refresh.db.transaction import RequestTransaction
from settings import get_settings


def as_tenant(tenant: Any) -> RequestTransaction:
    """A request of the tenant's member (tests/conftest.py makes `<slug>-member`)."""
    payload = {"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)}
    claims = build_claims(payload, Channel.api)
    return RequestTransaction(READ_DB, claims, get_settings().authenticated_role, True)


async def a_task(tenant_id: Any, title: str) -> uuid.UUID:
    project, task = uuid.uuid4(), uuid.uuid4()
    await write_client.run(Project.insert(Project(id=project, tenant_id=tenant_id, name=title)))
    await write_client.run(
        Task.insert(Task(id=task, tenant_id=tenant_id, project_id=project, title=title))
    )
    return task


def test_piccolo_runs_a_querys_frozen_querystrings_as_we_set_them() -> None:
    query = Task.select(Task.id).where(Task.id == Param("id"))
    querystrings = query.querystrings
    assert len(querystrings) == 1
    querystrings[0].freeze(engine_type=query.engine_type)
    sql, args = querystrings[0]._frozen_compiled_strings
    assert "$1" in sql and args == [Param("id")]
    query._frozen_querystrings = querystrings
    assert query.querystrings is querystrings  # what Query._run renders from


def test_the_sql_is_what_piccolo_builds_unfrozen() -> None:
    task_id = uuid.uuid4()
    unfrozen = Task.select(*COLUMNS).where(Task.id == task_id).limit(1)
    frozen = FrozenWithParams(Task.select(*COLUMNS).where(Task.id == Param("id")).limit(1))
    sql, args = unfrozen.querystrings[0].compile_string()
    assert args == [task_id]
    assert (frozen.sql, frozen.params) == (sql, {"id"})
    query = frozen(id=task_id)
    assert query.querystrings[0].compile_string() == (sql, [task_id])
    with pytest.raises(TypeError):
        frozen(other=task_id)


async def test_runs_like_the_unfrozen_query_from_two_tenants_side(app, tenant_a, tenant_b):
    mine, theirs = await a_task(tenant_a.id, "frozen A"), await a_task(tenant_b.id, "frozen B")
    async with as_tenant(tenant_a):
        unfrozen = await Task.select(*COLUMNS).where(Task.id == mine).first()
        assert unfrozen is not None and unfrozen["title"] == "frozen A"
        assert await fetch_task(mine) == unfrozen
        assert await fetch_task(theirs) is None  # B's task: RLS, as unfrozen
        page = await list_tasks(TaskListQuery(limit=200))
        assert (await list_tasks(TaskListQuery(limit=200))) == page  # the cached query
        built = (
            await Task.select(*COLUMNS)
            .order_by(Task.created_at, Task.id, ascending=False)
            .limit(201)
        )
    assert page["data"] == built[:200]
    assert {
        row["tenant_id"]
        for row in await write_client.run(
            Task.select(Task.tenant_id).where(Task.id.is_in([r["id"] for r in page["data"]]))
        )
    } == {tenant_a.id}
    async with as_tenant(tenant_b):
        assert (await fetch_task(theirs) or {}).get("title") == "frozen B"
        assert await fetch_task(mine) is None


async def test_rows_are_what_piccolos_run_returns_from_two_tenants_side(app, tenant_a, tenant_b):
    """rows() runs the statement without Piccolo's run around it: the same rows as that
    run, for the app's two frozen queries, each tenant seeing its own task only. Fails if
    Piccolo's run starts to change the rows of such a query."""
    mine, theirs = await a_task(tenant_a.id, "rows A"), await a_task(tenant_b.id, "rows B")
    for tenant, own, other in ((tenant_a, mine, theirs), (tenant_b, theirs, mine)):
        async with as_tenant(tenant):
            fetch = by_id()
            page = unfiltered_page("created_at", True, 50)
            assert fetch.returns_records and page.returns_records  # no fallback taken
            found = await fetch.rows(id=own)
            assert found == await fetch(id=own) and [r["id"] for r in found] == [own]
            assert await fetch.rows(id=other) == [] == await fetch(id=other)
            listed = await page.rows()
            assert listed == await page() and own in {r["id"] for r in listed}
            assert other not in {r["id"] for r in listed}


class RunsItsOwnWay(Select):  # type: ignore[type-arg]
    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return [{"ran": "its own way"}]


class ProcessesItsRows(Select):  # type: ignore[type-arg]
    async def response_handler(self, response: Any) -> Any:
        return [{**row, "processed": True} for row in response]


async def test_a_query_whose_rows_piccolo_processes_runs_through_piccolo(app, tenant_a):
    """Anything Piccolo's run would do to the rows (load JSON, nest, call back) or a class
    that runs the query its own way: rows() goes through that run, with the same result."""
    task = await a_task(tenant_a.id, "processed")
    where = Task.id == Param("id")
    processed = {
        "load_json": Task.select(Task.id).where(where).output(load_json=True),
        "nested": Task.select(Task.id, Task.project_id.name).where(where).output(nested=True),
        "callback": Task.select(Task.id).where(where).callback(lambda rows: rows * 2),
        "own run": RunsItsOwnWay(Task).columns(Task.id).where(where),
        "own processing": ProcessesItsRows(Task).columns(Task.id).where(where),
    }
    async with as_tenant(tenant_a):
        for name, query in processed.items():
            frozen = FrozenWithParams(query)
            assert not frozen.returns_records, name
            assert await frozen.rows(id=task) == await frozen(id=task), name
        assert await FrozenWithParams(processed["nested"]).rows(id=task) == [
            {"id": task, "project_id": {"name": "processed"}}
        ]
        assert await FrozenWithParams(processed["callback"]).rows(id=task) == [{"id": task}] * 2
        assert await FrozenWithParams(processed["own run"]).rows(id=task) == [
            {"ran": "its own way"}
        ]
        assert await FrozenWithParams(processed["own processing"]).rows(id=task) == [
            {"id": task, "processed": True}
        ]
    assert returns_its_records(Task.select(Task.id).where(where))


def test_the_options_returns_its_records_reads_are_piccolos_own() -> None:
    """returns_its_records compares a query's output options with the defaults and looks
    at callbacks of every kind: an option or kind Piccolo adds must be looked at here."""
    assert {f.name for f in fields(Output)} == {
        "as_json",
        "as_list",
        "as_objects",
        "load_json",
        "nested",
    }
    assert set(CallbackType) == {CallbackType.success}
    for name in PROCESSING:
        assert callable(getattr(Select, name)), name


def test_a_proxy_is_refused() -> None:
    with pytest.raises(TypeError, match="First"):
        FrozenWithParams(Task.select(Task.id).where(Task.id == Param("id")).first())


def attributes(obj: Any) -> dict[str, Any]:
    state = obj.__getstate__()
    instance, slots = state if isinstance(state, tuple) else (state, None)
    return {**(instance or {}), **(slots or {})}


def test_a_snapshot_copies_as_copy_copy_does() -> None:
    """Snapshot.copy is copy.copy done once: the same class and attributes for Piccolo's
    select (a routed one, with a __dict__ beside its slots) and its querystring. Fails if
    Piccolo gives them a copying protocol of their own."""
    query = Task.select(*COLUMNS).where(Task.id == Param("id")).limit(1)
    for obj in (query, query.querystrings[0]):
        copied = Snapshot(obj).copy()
        assert type(copied) is type(obj) and copied is not obj
        assert attributes(copied) == attributes(copy.copy(obj))
    changed = Snapshot(query).copy(_frozen_querystrings=["x"])
    assert changed._frozen_querystrings == ["x"] and query._frozen_querystrings != ["x"]


def test_a_snapshot_refuses_a_class_that_copies_itself() -> None:
    class CopiesItself:
        def __copy__(self) -> CopiesItself:
            return self

    with pytest.raises(TypeError, match="__copy__"):
        Snapshot(CopiesItself())
