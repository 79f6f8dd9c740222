"""`piccolo rls check` on triggers that run as the owner although their function is not a
hand-made SECURITY DEFINER one (refresh/rls/check/owner_rights.py; found by a review):
a trigger a foreign key's cascade fires, the project's SET NULL function given another
body, a hand-made trigger on the project's audit function, and the shapes a trigger can
take (statement level, INSTEAD OF on a view, another schema, a partitioned table)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from settings import get_settings
from tests.database import superuser_sql, test_database
from tests.refresh.rls.test_check import check, follow
from tests.refresh.rls.test_check_owner_rights import a_touched
from tests.request_sql import request_transaction

OWNER_CODES = ("trigger_runs_as_owner", "rule_runs_as_owner")


def owner_problems() -> list[dict[str, Any]]:
    report = json.loads(check("--json").stdout)
    return [p for p in report["problems"] if p["code"] in OWNER_CODES]


@asynccontextmanager
async def admin_request(tenant: Any) -> AsyncIterator[asyncpg.Connection]:
    """A request of the tenant's admin member (tenant_role admin may delete members)."""
    connection = await asyncpg.connect(test_database().read_url)
    try:
        async with connection.transaction():
            claims = {"sub": f"{tenant.slug}-admin", "tenant_id": str(tenant.id)}
            await connection.execute(
                "select auth.begin_request($1, $2, null)",
                json.dumps({**claims, "tenant_role": "admin"}),
                get_settings().authenticated_role,
            )
            yield connection
    finally:
        await connection.close()


async def b_deletes_a_project_with_a_task_titled(tenant_b: Any, title: str) -> None:
    async with request_transaction(tenant_b) as connection:
        project = await connection.fetchval(
            "insert into project (tenant_id, name) values ($1, 'b') returning id", tenant_b.id
        )
        await connection.execute(
            "insert into task (tenant_id, project_id, title) values ($1, $2, $3)",
            tenant_b.id,
            project,
            title,
        )
        await connection.execute("delete from project where id = $1", project)


async def test_an_invoker_trigger_a_cascade_fires_is_reported_and_dropped(
    tenant_a: Any, tenant_b: Any
) -> None:
    """task's key to project cascades, and PostgreSQL runs the cascade as task's owner:
    a SECURITY INVOKER trigger on task then runs past RLS. B deleting its own project
    reached A's project; the check names the trigger, and its fix (drop) closes it."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database, f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}')"
    )
    try:
        superuser_sql(
            database,
            "set role refresh_admin; create function touch_by_title() returns trigger "
            "language plpgsql security invoker set search_path = pg_catalog, public, pg_temp "
            "as $$ begin update project set description = 'touched' where name = old.title; "
            "return old; end $$; "
            "create trigger touch_by_title before delete on task for each row "
            "execute function touch_by_title();",
        )
        await b_deletes_a_project_with_a_task_titled(tenant_b, name)
        assert await a_touched(tenant_a, name), "the cascade fired the trigger as the owner"
        superuser_sql(database, f"update project set description = '' where name = '{name}'")

        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["code"], problem["table"]) == ("trigger_runs_as_owner", "task")
        assert problem["fix"]["sql"] == "drop trigger touch_by_title on task;"
        await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
        await b_deletes_a_project_with_a_task_titled(tenant_b, name)
        assert not await a_touched(tenant_a, name)
    finally:
        superuser_sql(
            database,
            "drop trigger if exists touch_by_title on task; "
            "drop function if exists touch_by_title(); "
            f"delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b')",
        )


async def test_the_set_null_function_with_another_body_is_reported_and_regenerated(
    tenant_a: Any, tenant_b: Any
) -> None:
    """The project's SET NULL trigger (member -> task.assignee_id) is excepted only with
    the body it was generated with: a hand-written `create or replace` of its function
    let B's admin, deleting one of B's members, write A's project."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    users = [f"victim-{uuid.uuid4()}", f"victim-{uuid.uuid4()}"]
    superuser_sql(
        database,
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        + "; ".join(
            "insert into member (tenant_id, user_id, email, display_name) "
            f"values ('{tenant_b.id}', '{user}', '{user}@b.test', '{name}')"
            for user in users
        ),
    )
    try:
        superuser_sql(
            database,
            "set role refresh_admin; create or replace function public.task_assignee_unset() "
            "returns trigger language plpgsql security definer "
            "set search_path = pg_catalog, public, pg_temp as $$ begin "
            "update public.task set assignee_id = null where tenant_id = old.tenant_id "
            "and assignee_id = old.id; "
            "update public.project set description = 'touched' where name = old.display_name; "
            "return old; end $$;",
        )
        async with admin_request(tenant_b) as connection:
            await connection.execute("delete from member where user_id = $1", users[0])
        assert await a_touched(tenant_a, name), "B's member delete reached A's project"
        superuser_sql(database, f"update project set description = '' where name = '{name}'")

        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["code"], problem["table"]) == ("trigger_runs_as_owner", None)
        assert "create or replace function public.task_assignee_unset()" in problem["fix"]["sql"]
        await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
        async with admin_request(tenant_b) as connection:
            await connection.execute("delete from member where user_id = $1", users[1])
        assert not await a_touched(tenant_a, name)
    finally:
        superuser_sql(
            database,
            f"delete from project where name = '{name}'; "
            f"delete from member where user_id in ('{users[0]}', '{users[1]}')",
        )
    assert (await asyncio.to_thread(check)).returncode == 0


async def test_a_trigger_on_the_audit_function_is_dropped_not_the_function_altered(
    tenant_b: Any,
) -> None:
    """Making public.audit_change() SECURITY INVOKER would break every audited table's
    writes (a request role may not write the audit log): the fix drops the stray
    trigger, and B's writes go on working, audited."""
    database = test_database()
    superuser_sql(
        database,
        "set role refresh_admin; create trigger project_log after update on project "
        "for each row execute function public.audit_change('project', 'tenant_id')",
    )
    try:
        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["code"], problem["table"]) == ("trigger_runs_as_owner", "project")
        assert problem["fix"]["sql"] == "drop trigger project_log on project;"
        await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
        async with request_transaction(tenant_b) as connection:
            project = await connection.fetchval(
                "insert into project (tenant_id, name) values ($1, 'log') returning id",
                tenant_b.id,
            )
            await connection.execute("update project set name = 'log 2' where id = $1", project)
    finally:
        superuser_sql(
            database,
            "drop trigger if exists project_log on project; "
            f"delete from project where tenant_id = '{tenant_b.id}' and name like 'log%'",
        )


DEFINER = (
    "create function {f}() returns trigger language plpgsql security definer "
    "set search_path = pg_catalog, public, pg_temp as $$ begin return null; end $$; "
    "revoke execute on function {f}() from public; "
)
#: name -> (SQL making it as a superuser, SQL undoing it, the (code, table) reported)
SHAPES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "statement-level trigger, its function in auth, owned by a superuser": (
        DEFINER.format(f="auth.shape_fn")
        + "create trigger shape after update on project for each statement "
        "execute function auth.shape_fn();",
        "drop trigger if exists shape on project; drop function if exists auth.shape_fn()",
        [("trigger_runs_as_owner", "project")],
    ),
    "INSTEAD OF trigger on a view": (
        "set role refresh_admin; create view shape_view with (security_invoker = true) as "
        "select * from project; "
        + DEFINER.format(f="shape_fn")
        + "create trigger shape instead of insert on shape_view "
        "for each row execute function shape_fn();",
        "drop view if exists shape_view; drop function if exists shape_fn()",
        [("trigger_runs_as_owner", "shape_view")],
    ),
    "rule on a view": (
        "set role refresh_admin; create view shape_view with (security_invoker = true) as "
        "select * from project; create rule shape as on insert to shape_view do instead "
        "update task set title = new.name",
        "drop view if exists shape_view",
        [("rule_runs_as_owner", "shape_view")],
    ),
    "trigger named audit_change, on another schema's audit_change": (
        "create schema shape_s; create table shape_s.t (id int); "
        + DEFINER.format(f="shape_s.audit_change")
        + "create trigger audit_change after update on shape_s.t for each row "
        "execute function shape_s.audit_change();",
        "drop schema if exists shape_s cascade",
        [("trigger_runs_as_owner", "shape_s.t")],
    ),
    "trigger on a partitioned table (its partitions' clones go with it)": (
        "set role refresh_admin; create table shape_p (id int) partition by range (id); "
        "create table shape_p1 partition of shape_p for values from (0) to (10); "
        + DEFINER.format(f="shape_fn")
        + "create trigger shape after insert on shape_p for each row execute function "
        "shape_fn();",
        "drop table if exists shape_p; drop function if exists shape_fn()",
        [("trigger_runs_as_owner", "shape_p")],
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_every_shape_is_reported_and_its_fix_clears_it(shape: str) -> None:
    make, undo, expected = SHAPES[shape]
    database = test_database()
    superuser_sql(database, make)
    try:
        found = await asyncio.to_thread(owner_problems)
        assert sorted((p["code"], p["table"]) for p in found) == sorted(expected), found
        for problem in found:
            await asyncio.to_thread(follow, problem["fix"])
        assert await asyncio.to_thread(owner_problems) == []
    finally:
        superuser_sql(database, undo)
