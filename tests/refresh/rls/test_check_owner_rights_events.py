"""`piccolo rls check` counts a trigger as run by the owner only for the changes the owner
makes to its table (refresh/rls/check/owner_rights_sql.py, CHANGED_AS_OWNER): a cascade
deletes, SET NULL updates, the audit trigger inserts. A trigger on other events fires
only for the request's own statements, as the request's role, and is not reported; and
a table's rows change with its parent's (partitions, old-style inheritance), which keys
to them follow, and an update through a partitioned table may move a row: a delete from
one partition, an insert into another (found by a review, each shape below)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from refresh.rls.check import owner_rights, owner_rights_sql
from refresh.rls.check.owner_rights_sql import CHANGED_AS_OWNER
from tests.database import superuser_sql, test_database
from tests.refresh.rls.test_check import follow
from tests.refresh.rls.test_check_owner_rights import a_touched
from tests.refresh.rls.test_check_owner_rights_triggers import (
    b_deletes_a_project_with_a_task_titled,
    owner_problems,
)
from tests.request_sql import request_transaction

TOUCH = (
    "set role refresh_admin; create function touch_by_title() returns trigger "
    "language plpgsql security invoker set search_path = pg_catalog, public, pg_temp "
    "as $$ begin update project set description = 'touched' "
    "where name = coalesce(new.title, old.title); return old; end $$; "
)
UNDO = "drop function if exists touch_by_title() cascade"
NOOP = (
    "set role refresh_admin; create function shape_noop() returns trigger language plpgsql "
    "security invoker set search_path = pg_catalog, pg_temp as $$ begin return null; end $$; "
)


def with_touch(trigger: str) -> str:
    return TOUCH + trigger + " execute function touch_by_title();"


async def test_a_trigger_on_no_change_the_owner_makes_is_not_reported(
    tenant_a: Any, tenant_b: Any
) -> None:
    """task's rows are deleted by project's cascade and updated by member's SET NULL
    trigger, as the owner, but never inserted so: an INSERT or TRUNCATE trigger on task
    runs as the request's role, under RLS. B's insert fired it and A's project, of the
    same name, stayed as it was; the check reports nothing. The same trigger on UPDATE is
    reported."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database, f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}')"
    )
    try:
        superuser_sql(
            database,
            with_touch("create trigger touch_by_title after insert on task for each row")
            + "create trigger touch_on_truncate after truncate on task for each statement "
            "execute function touch_by_title();",
        )
        await b_deletes_a_project_with_a_task_titled(tenant_b, name)
        assert not await a_touched(tenant_a, name)
        assert await asyncio.to_thread(owner_problems) == []

        superuser_sql(
            database,
            "set role refresh_admin; create trigger touch_on_update after update on task "
            "for each row execute function touch_by_title();",
        )
        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["table"], problem["fix"]["sql"]) == (
            "task",
            "drop trigger touch_on_update on task;",
        )
    finally:
        superuser_sql(
            database,
            f"{UNDO}; delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b')",
        )


async def test_the_audit_logs_insert_counts_and_its_other_events_do_not() -> None:
    """The audit trigger inserts into audit_log as the owner: an INSERT trigger there is
    reported, a DELETE one (no request deletes the log) is not."""
    database = test_database()
    try:
        superuser_sql(
            database,
            NOOP + "create trigger on_delete before delete on audit_log for each row "
            "execute function shape_noop();",
        )
        assert await asyncio.to_thread(owner_problems) == []
        superuser_sql(
            database,
            "set role refresh_admin; create trigger on_insert after insert on audit_log "
            "for each row execute function shape_noop();",
        )
        [problem] = await asyncio.to_thread(owner_problems)
        assert problem["fix"]["sql"] == "drop trigger on_insert on audit_log;"
    finally:
        superuser_sql(database, "drop function if exists shape_noop() cascade")


async def test_a_key_to_a_partition_cascades_from_a_delete_through_its_parent(
    tenant_a: Any, tenant_b: Any
) -> None:
    """The request role may delete from a partitioned table, granted on the parent only;
    a key to one of its partitions cascades as the owner when a row is deleted through
    the parent, and an invoker trigger it fires reached A's project (BEFORE: an AFTER
    trigger runs as the owner too from PostgreSQL 16 on). The check follows the grant
    down to the partition, and its fix closes the leak."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database,
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        "set role refresh_admin; "
        "create table shape_parent (id int primary key) partition by range (id); "
        "create table shape_part partition of shape_parent for values from (0) to (10); "
        "create table shape_child (parent_id int references shape_part on delete cascade, "
        "title text); "
        "grant select, insert, delete on shape_parent to authenticated; "
        "grant select, insert on shape_child to authenticated; "
        + with_touch("create trigger touch_by_title before delete on shape_child for each row"),
    )

    async def b_deletes_its_row() -> None:
        async with request_transaction(tenant_b) as connection:
            await connection.execute("insert into shape_parent values (1)")
            await connection.execute("insert into shape_child values (1, $1)", name)
            await connection.execute("delete from shape_parent where id = 1")

    try:
        await b_deletes_its_row()
        assert await a_touched(tenant_a, name), "the cascade fired the trigger as the owner"
        superuser_sql(database, f"update project set description = '' where name = '{name}'")

        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["table"], problem["fix"]["sql"]) == (
            "shape_child",
            "drop trigger touch_by_title on shape_child;",
        )
        await asyncio.to_thread(follow, problem["fix"])
        assert await asyncio.to_thread(owner_problems) == []
        await b_deletes_its_row()
        assert not await a_touched(tenant_a, name)
    finally:
        superuser_sql(
            database,
            f"{UNDO}; drop table if exists shape_child, shape_parent; "
            f"delete from project where name = '{name}'",
        )


ON_DELETE = (
    "create trigger on_delete before delete on {t} for each row execute function shape_noop();"
)
#: name -> (SQL making it as the admin role, the tables dropped after, the tables reported)
SHAPES: dict[str, tuple[str, str, list[str]]] = {
    "a SET NULL on a partition key moves the row: a delete and an insert": (
        "create table shape_p (id int primary key); "
        "create table shape_c (id int, pid int references shape_p on delete set null) "
        "partition by list (pid); "
        "create table shape_c_a partition of shape_c for values in (1); "
        "create table shape_c_null partition of shape_c default; "
        "grant select, delete on shape_p to authenticated; "
        + ON_DELETE.format(t="shape_c")
        + "create trigger on_insert before insert on shape_c for each row "
        "execute function shape_noop();",
        "shape_c, shape_p",
        ["shape_c", "shape_c"],
    ),
    "an update grant on a partitioned table, a key to one of its partitions": (
        "create table shape_p (id int, k int, primary key (id, k)) partition by list (k); "
        "create table shape_p_a partition of shape_p for values in (1); "
        "create table shape_p_b partition of shape_p for values in (2); "
        "create table shape_c (id int, pid int, pk int, "
        "foreign key (pid, pk) references shape_p_a on delete cascade); "
        "grant select, update (k) on shape_p to authenticated; " + ON_DELETE.format(t="shape_c"),
        "shape_c, shape_p",
        ["shape_c"],
    ),
    "a key declared on a partition, the trigger on its parent": (
        "create table shape_p (id int primary key); "
        "create table shape_c (id int, pid int) partition by range (id); "
        "create table shape_c_a partition of shape_c for values from (0) to (100); "
        "alter table shape_c_a add foreign key (pid) references shape_p on delete cascade; "
        "grant select, delete on shape_p to authenticated; " + ON_DELETE.format(t="shape_c"),
        "shape_c, shape_p",
        ["shape_c"],
    ),
    "old-style inheritance: a delete through the parent, a key to its child": (
        "create table shape_p (id int primary key); "
        "create table shape_p_child () inherits (shape_p); "
        "alter table shape_p_child add primary key (id); "
        "create table shape_c (pid int references shape_p_child on delete cascade); "
        "grant select, delete on shape_p to authenticated; " + ON_DELETE.format(t="shape_c"),
        "shape_c, shape_p_child, shape_p",
        ["shape_c"],
    ),
}


#: name -> (SQL making it as the admin role, the tables dropped after): nothing runs as
#: the owner on these triggers' events, and nothing is reported
NOT_BY_OWNER: dict[str, tuple[str, str]] = {
    "a SET NULL on a column that is not the partition key moves no row": (
        "create table shape_p (id int primary key); "
        "create table shape_c (id int, created date, pid int references shape_p "
        "on delete set null) partition by range (created); "
        "create table shape_c_a partition of shape_c for values from ('2026-01-01') "
        "to ('2027-01-01'); "
        "grant select, delete on shape_p to authenticated; "
        + ON_DELETE.format(t="shape_c")
        + "create trigger on_insert before insert on shape_c for each row "
        "execute function shape_noop();",
        "shape_c, shape_p",
    ),
    "an update of a column that is not the partition key moves no row": (
        "create table shape_p (id int, k int, note text, primary key (id, k)) "
        "partition by list (k); "
        "create table shape_p_a partition of shape_p for values in (1); "
        "create table shape_c (id int, pid int, pk int, "
        "foreign key (pid, pk) references shape_p_a on delete cascade); "
        "grant select, update (note) on shape_p to authenticated; " + ON_DELETE.format(t="shape_c"),
        "shape_c, shape_p",
    ),
}


@pytest.mark.parametrize("shape", list(NOT_BY_OWNER))
async def test_a_partitioned_table_whose_rows_cannot_move_reports_nothing(shape: str) -> None:
    make, tables = NOT_BY_OWNER[shape]
    database = test_database()
    superuser_sql(database, NOOP + make)
    try:
        assert await asyncio.to_thread(owner_problems) == []
    finally:
        superuser_sql(
            database, f"drop table if exists {tables}; drop function if exists shape_noop()"
        )


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_every_partition_shape_is_reported_and_its_fix_clears_it(shape: str) -> None:
    make, tables, expected = SHAPES[shape]
    database = test_database()
    superuser_sql(database, NOOP + make)
    try:
        found = await asyncio.to_thread(owner_problems)
        assert sorted(p["table"] for p in found) == expected, found
        assert {p["code"] for p in found} == {"trigger_runs_as_owner"}
        for problem in found:
            await asyncio.to_thread(follow, problem["fix"])
        assert await asyncio.to_thread(owner_problems) == []
    finally:
        superuser_sql(
            database, f"drop table if exists {tables}; drop function if exists shape_noop()"
        )


async def test_what_the_set_null_trigger_updates_reaches_partitions_and_children() -> None:
    """The project's SET NULL trigger updates its table without ONLY, as the owner: on a
    table partitioned on the key its rows move (a delete and an insert in partitions), and
    an inheritance child's rows are updated too."""
    from refresh.rls.check import registered_apps
    from refresh.schema.state import declared_state

    declared = {a.app_name: declared_state(a).state for a in registered_apps() if a.table_classes}
    seeds = owner_rights.written_as_owner(owner_rights.set_null_keys(declared))
    assert ("task", owner_rights_sql.MOVE) in seeds  # member -> task.assignee_id
    database = test_database()
    superuser_sql(
        database,
        "set role refresh_admin; "
        "create table shape_c (id int, pid int) partition by hash (pid); "
        "create table shape_c_0 partition of shape_c for values with (modulus 2, remainder 0); "
        "create table shape_c_1 partition of shape_c for values with (modulus 2, remainder 1); "
        "create table shape_p (id int); create table shape_p_child () inherits (shape_p);",
    )
    connection = await asyncpg.connect(database.write_url)
    try:
        rows = await connection.fetch(
            CHANGED_AS_OWNER, [], ["shape_c", "shape_p"], [owner_rights_sql.MOVE] * 2
        )
        names = await connection.fetch(
            "select oid, relname from pg_class where oid = any($1::oid[])",
            [row["rel"] for row in rows],
        )
        name_of = {row["oid"]: row["relname"] for row in names}
        events = {name_of[row["rel"]]: row["events"] for row in rows}
        moved = owner_rights_sql.INSERT | owner_rights_sql.DELETE | owner_rights_sql.UPDATE
        assert events["shape_c_0"] == events["shape_c_1"] == moved
        assert events["shape_p"] == events["shape_p_child"] == owner_rights_sql.UPDATE
    finally:
        await connection.close()
        superuser_sql(database, "drop table if exists shape_c, shape_p_child, shape_p")
