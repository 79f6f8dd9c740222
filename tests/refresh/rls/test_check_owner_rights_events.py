"""`piccolo rls check` counts a trigger as run by the owner only for the changes the owner
makes to its table (refresh/rls/check/owner_rights.py, CHANGED_AS_OWNER): a cascade
deletes, SET NULL updates, the audit trigger inserts. A trigger on other events fires
only for the request's own statements, as the request's role, and is not reported; and
a partition's rows change with its parent's, which a key to the partition follows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

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
