"""`piccolo rls check` on the project's own trigger functions changed by hand, and on
tables changed as the owner further down a chain of keys (refresh/rls/check/owner_rights.py;
found by a second review). Each shown from two tenants: B reaches A's row through it; the
check names it; its printed fix, followed literally, clears it."""

from __future__ import annotations

import asyncio
import types
import uuid
from typing import Any

import asyncpg
import pytest

from tests.database import superuser_sql, test_database
from tests.refresh.rls.test_check import check, follow
from tests.refresh.rls.test_check_owner_rights import a_touched, b_renames_a_project_named
from tests.refresh.rls.test_check_owner_rights_triggers import admin_request, owner_problems
from tests.request_sql import request_transaction


async def function_definition(signature: str) -> str:
    connection = await asyncpg.connect(test_database().write_url)
    try:
        return await connection.fetchval("select pg_get_functiondef($1::regprocedure)", signature)
    finally:
        await connection.close()


async def test_set_updated_at_with_another_body_is_reported_and_restored(
    tenant_a: Any, tenant_b: Any
) -> None:
    """public.set_updated_at() replaced (still SECURITY INVOKER) by a hand-written
    migration: B's admin deletes one of B's members; the project's SET NULL trigger
    (definer) updates B's task as the owner, which fires task_set_updated_at as the owner,
    and the new body writes A's project. The check names the function; its fix is the
    migrations' definition."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    user = f"victim-{uuid.uuid4()}"
    original = await function_definition("public.set_updated_at()")
    superuser_sql(
        database,
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        "insert into member (tenant_id, user_id, email, display_name) "
        f"values ('{tenant_b.id}', '{user}', '{user}@b.test', 'v')",
    )
    try:
        superuser_sql(
            database,
            "set role refresh_admin; create or replace function public.set_updated_at() "
            "returns trigger language plpgsql as $$ begin new.updated_at := now(); "
            "if tg_table_name = 'task' then update public.project set description = "
            "'touched' where name = new.title; end if; return new; end $$;",
        )
        async with admin_request(tenant_b) as connection:
            member = await connection.fetchval("select id from member where user_id = $1", user)
            project = await connection.fetchval(
                "insert into project (tenant_id, name) values ($1, 'b') returning id",
                tenant_b.id,
            )
            await connection.execute(
                "insert into task (tenant_id, project_id, title, assignee_id) "
                "values ($1, $2, $3, $4)",
                tenant_b.id,
                project,
                name,
                member,
            )
            await connection.execute("delete from member where id = $1", member)
        assert await a_touched(tenant_a, name), "B's member delete reached A's project"
        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["code"], problem["table"]) == ("trigger_runs_as_owner", None)
        assert "function set_updated_at()" in problem["message"]
        await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
        assert await function_definition("public.set_updated_at()") == original
    finally:
        superuser_sql(database, original + ";")
        superuser_sql(
            database,
            f"delete from task where title = '{name}'; "
            f"delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b'); "
            f"delete from member where user_id = '{user}'",
        )


async def test_audit_change_with_another_body_is_reported_and_restored(
    tenant_a: Any, tenant_b: Any
) -> None:
    """public.audit_change() (SECURITY DEFINER, on every audited table) given an extra
    statement by a hand-written migration: B renaming its own project writes A's. The
    check names the function once (not once per audited table); its fix restores it."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    original = await function_definition("public.audit_change()")
    inject = (
        "\nbegin\n  if pg_trigger_depth() = 1 and tg_table_name = 'project' "
        "and tg_op = 'UPDATE' then update public.project set description = 'touched' "
        "where name = old.name and id <> new.id; end if;\n"
    )
    tampered = original.replace("\nbegin\n", inject, 1)
    assert tampered != original
    superuser_sql(
        database, f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}')"
    )
    try:
        superuser_sql(database, "set role refresh_admin;\n" + tampered + ";")
        await b_renames_a_project_named(tenant_b, name)
        assert await a_touched(tenant_a, name), "B's rename reached A's project"
        superuser_sql(database, f"update project set description = '' where name = '{name}'")
        [problem] = await asyncio.to_thread(owner_problems)
        assert (problem["code"], problem["table"]) == ("trigger_runs_as_owner", None)
        assert "function audit_change()" in problem["message"]
        await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
        assert await function_definition("public.audit_change()") == original
        await b_renames_a_project_named(tenant_b, name)
        assert not await a_touched(tenant_a, name)
    finally:
        superuser_sql(database, original + ";")
        superuser_sql(database, f"delete from project where name like '{name}%'")


def cascade_chain(tenant_a: Any, name: str, security: str) -> str:
    """SQL for A's project named `name`, and project <- stage <- note (each ON DELETE
    CASCADE; no request role may delete stage) with a trigger on note of the given
    security that writes the project named like the deleted note."""
    revoke = "revoke execute on function rv2_touch() from public; " if security == "definer" else ""
    return (
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        "set role refresh_admin; "
        "create table rv2_stage (id serial primary key, project_id uuid not null "
        "references project (id) on delete cascade, title text); "
        "create table rv2_note (id serial primary key, stage_id int not null "
        "references rv2_stage (id) on delete cascade, title text); "
        f"create function rv2_touch() returns trigger language plpgsql security {security} "
        "set search_path = pg_catalog, public, pg_temp as $$ begin "
        "update project set description = 'touched' where name = old.title; "
        f"return old; end $$; {revoke}"
        "create trigger rv2_touch before delete on rv2_note for each row "
        "execute function rv2_touch();"
    )


async def b_deletes_a_project_two_cascades_up_from_a_note(tenant_b: Any, name: str) -> None:
    async with request_transaction(tenant_b) as connection:
        project = await connection.fetchval(
            "insert into project (tenant_id, name) values ($1, 'b') returning id", tenant_b.id
        )
    # B's project gets a stage and a note (by the app, say: as the admin role)
    superuser_sql(
        test_database(),
        f"insert into rv2_stage (project_id, title) values ('{project}', 's'); "
        f"insert into rv2_note (stage_id, title) select id, '{name}' from rv2_stage "
        f"where project_id = '{project}'",
    )
    async with request_transaction(tenant_b) as connection:
        await connection.execute("delete from project where id = $1", project)


async def test_a_trigger_two_cascades_away_is_reported_and_dropped(
    tenant_a: Any, tenant_b: Any
) -> None:
    """project <- stage (cascade; no request role may delete stage) <- note (cascade): B
    deleting its own project cascades into stage and then note, as the owner, and an
    INVOKER trigger on note writes A's project. The chain is followed to its end."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(database, cascade_chain(tenant_a, name, "invoker"))
    try:
        await b_deletes_a_project_two_cascades_up_from_a_note(tenant_b, name)
        assert await a_touched(tenant_a, name), "two cascades fired the trigger as the owner"
        [problem] = await asyncio.to_thread(owner_problems)
        assert problem["table"] == "rv2_note"
        assert problem["fix"]["sql"] == "drop trigger rv2_touch on rv2_note;"
        await asyncio.to_thread(follow, problem["fix"])
        assert await asyncio.to_thread(owner_problems) == []
    finally:
        superuser_sql(
            database,
            "drop table if exists rv2_note, rv2_stage; drop function if exists rv2_touch(); "
            f"delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b')",
        )


async def test_a_disabled_definer_trigger_fixes_in_printed_order(tenant_b: Any) -> None:
    """A hand-made SECURITY DEFINER trigger, disabled, is
    reported (alter ... security invoker, then trigger_disabled's enable); the fixes,
    followed in the printed order, clear the report."""
    import json

    database = test_database()
    superuser_sql(
        database,
        "set role refresh_admin; create function rv2_def() returns trigger language plpgsql "
        "security definer set search_path = pg_catalog, public, pg_temp as $$ begin "
        "return new; end $$; revoke execute on function rv2_def() from public; "
        "create trigger rv2_def after update on project for each row "
        "execute function rv2_def(); alter table project disable trigger rv2_def;",
    )
    try:
        report = json.loads((await asyncio.to_thread(check, "--json")).stdout)
        for problem in report["problems"]:
            await asyncio.to_thread(follow, problem["fix"])
        assert (await asyncio.to_thread(check)).returncode == 0
    finally:
        superuser_sql(
            database,
            "drop trigger if exists rv2_def on project; drop function if exists rv2_def()",
        )


async def test_a_column_update_grant_counts_for_on_update_cascade() -> None:
    """A request role that may update only the referenced column (a column grant) still
    sets off ON UPDATE CASCADE, as the owner: the trigger on the referencing table is
    reported."""
    from settings import get_settings

    role = get_settings().authenticated_role
    database = test_database()
    superuser_sql(
        database,
        "set role refresh_admin; "
        "create table rv2_code (code text primary key, label text); "
        f"grant select, update (code) on rv2_code to {role}; "
        "create table rv2_use (id serial primary key, code text references rv2_code (code) "
        "on update cascade); "
        "create function rv2_touch2() returns trigger language plpgsql security invoker "
        "set search_path = pg_catalog, public, pg_temp as $$ begin "
        "update project set description = 'touched' where name = new.code; "
        "return new; end $$; "
        "create trigger rv2_touch2 before update on rv2_use for each row "
        "execute function rv2_touch2();",
    )
    try:
        found = await asyncio.to_thread(owner_problems)
        assert [p["table"] for p in found] == ["rv2_use"], found
    finally:
        superuser_sql(
            database,
            "drop table if exists rv2_use, rv2_code; drop function if exists rv2_touch2()",
        )


async def test_a_deferred_constraint_trigger_a_cascade_fires_is_reported(
    tenant_a: Any, tenant_b: Any
) -> None:
    """A CONSTRAINT TRIGGER, DEFERRABLE INITIALLY DEFERRED,
    INVOKER, on task (which project's cascade changes as the owner) is reported, with a
    drop that clears it. (Fired at commit, it ran as the owner on PostgreSQL 18 and as the
    request role on 15: reported either way, since the cascade can run it as the owner.)"""
    from tests.refresh.rls.test_check_owner_rights_triggers import (
        b_deletes_a_project_with_a_task_titled,
    )

    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database,
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        "set role refresh_admin; create function rv2_deferred() returns trigger "
        "language plpgsql security invoker set search_path = pg_catalog, public, pg_temp "
        "as $$ begin update project set description = 'touched' where name = old.title; "
        "return old; end $$; "
        "create constraint trigger rv2_deferred after delete on task deferrable initially "
        "deferred for each row execute function rv2_deferred();",
    )
    try:
        await b_deletes_a_project_with_a_task_titled(tenant_b, name)
        found = await asyncio.to_thread(owner_problems)
        assert [(p["table"], p["fix"]["sql"]) for p in found] == [
            ("task", "drop trigger rv2_deferred on task;")
        ], found
        await asyncio.to_thread(follow, found[0]["fix"])
        assert await asyncio.to_thread(owner_problems) == []
    finally:
        superuser_sql(
            database,
            "drop trigger if exists rv2_deferred on task; "
            "drop function if exists rv2_deferred(); "
            f"delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b')",
        )


async def test_a_definer_trigger_two_cascades_away_is_dropped_not_made_invoker(
    tenant_a: Any, tenant_b: Any
) -> None:
    """The same chain, the trigger's function SECURITY DEFINER: `security invoker` would
    not help (the cascade runs as the owner), so the fix drops the trigger, and B deleting
    its own project then leaves A's alone."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(database, cascade_chain(tenant_a, name, "definer"))
    try:
        [problem] = [p for p in await asyncio.to_thread(owner_problems) if p["table"] == "rv2_note"]
        assert problem["fix"]["sql"] == "drop trigger rv2_touch on rv2_note;"
        await asyncio.to_thread(follow, problem["fix"])
        assert [
            p for p in await asyncio.to_thread(owner_problems) if p["table"] == "rv2_note"
        ] == []
        await b_deletes_a_project_two_cascades_up_from_a_note(tenant_b, name)
        assert not await a_touched(tenant_a, name)
    finally:
        superuser_sql(
            database,
            "drop table if exists rv2_note, rv2_stage; drop function if exists rv2_touch(); "
            f"delete from project where name = '{name}' "
            f"or (tenant_id = '{tenant_b.id}' and name = 'b')",
        )


async def test_a_redefinition_not_yet_applied_is_explained_by_its_migration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new rls migration redefines audit_change() and has not run here: the function
    differs from its last definition, and the report puts that under the migration's
    migration_not_applied, whose `forwards` creates it as defined (not as a hand change
    of its own)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.conf.apps import Finder

    from refresh.rls.check import registered_apps, with_causes
    from refresh.rls.check.migrations import applied_problems
    from refresh.rls.check.owner_rights import owner_rights_problems
    from refresh.rls.check.project_functions import project_definitions
    from refresh.schema.state import declared_state

    current = project_definitions()["audit_change"]
    pending = types.SimpleNamespace(
        ID="2099-01-01T00:00:00:000000",
        VERSION="1",
        DESCRIPTION="audit_change, redefined",
        FORWARDS=current.statement.replace("begin", "begin perform 1;", 1),
    )
    load = BaseMigrationManager.get_migration_modules
    rls = Finder().get_app_config("rls")

    def with_pending(self: Any, folder: str) -> dict[str, Any]:
        modules = dict(load(self, folder))
        if folder == rls.resolved_migrations_folder_path:
            modules[pending.ID] = pending
        return modules

    monkeypatch.setattr(BaseMigrationManager, "get_migration_modules", with_pending)
    declared = {a.app_name: declared_state(a).state for a in registered_apps() if a.table_classes}
    problems = with_causes(await owner_rights_problems(declared) + await applied_problems(rls))
    [function] = [p for p in problems if p.code == "trigger_runs_as_owner"]
    assert "function audit_change()" in function.message and function.app == "rls"
    assert function.cause is not None and function.cause.code == "migration_not_applied"
    assert pending.ID in function.cause.message
