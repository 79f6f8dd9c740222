"""`piccolo rls check` on what runs with its owner's rights when a request fires it
(refresh/rls/check/owner_rights.py): a rewrite rule, a trigger whose function is SECURITY
DEFINER. Each made as a hand-written migration would; seen from two tenants: B changes a
row of its own, and the rule or trigger changes A's; the check names it; its printed
fixes, run literally, clear the report, and B's change then stays in B's tenant."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.database import superuser_sql, test_database
from tests.refresh.rls.test_check import check, follow
from tests.request_sql import request_transaction

TOUCH_FUNCTION = (
    "create function touch_same_name() returns trigger language plpgsql security definer "
    "set search_path = pg_catalog, public, pg_temp as $$ begin "
    "update project set description = 'touched' where name = old.name and id <> new.id; "
    "return new; end $$; "
)
TOUCH_TRIGGER = (
    "create trigger touch_same_name after update of name on project "
    "for each row execute function touch_same_name(); "
)
#: name -> (SQL making the mistake as a superuser; undoing it; the problems' codes and
#: tables; who the fixes run as). Every mistake reacts to a project being renamed from
#: the name of one of A's projects, and marks A's project 'touched'.
MISTAKES: dict[str, tuple[str, str, list[tuple[str, str]], str]] = {
    "rule rewriting another table": (
        # a rename "kept in sync" by a rule, made by a migration (owned by the admin role)
        "set role refresh_admin; create rule sync_names as on update to project do also "
        "update task set title = 'touched' where title = old.name",
        "drop rule if exists sync_names on project",
        [("rule_runs_as_owner", "project")],
        "the admin role",
    ),
    "SECURITY DEFINER trigger owned by a superuser": (
        # it runs as the superuser: only a superuser (or its owner) may alter it
        f"{TOUCH_FUNCTION}revoke execute on function touch_same_name() from public; "
        + TOUCH_TRIGGER,
        "drop trigger if exists touch_same_name on project; "
        "drop function if exists touch_same_name()",
        [("trigger_runs_as_owner", "project")],
        "a superuser",
    ),
    "SECURITY DEFINER trigger, EXECUTE revoked": (
        # revoked as the guide says of definer functions: no longer callable, still fired
        f"set role refresh_admin; {TOUCH_FUNCTION}"
        "revoke execute on function touch_same_name() from public; " + TOUCH_TRIGGER,
        "drop trigger if exists touch_same_name on project; "
        "drop function if exists touch_same_name()",
        [("trigger_runs_as_owner", "project")],
        "the admin role",
    ),
    "SECURITY DEFINER trigger, EXECUTE granted": (
        f"set role refresh_admin; {TOUCH_FUNCTION}{TOUCH_TRIGGER}",
        "drop trigger if exists touch_same_name on project; "
        "drop function if exists touch_same_name()",
        [("security_definer_executable", ""), ("trigger_runs_as_owner", "project")],
        "the admin role",
    ),
}


async def a_touched(tenant_a: Any, name: str) -> bool:
    """Whether A's project of that name, or A's task of that title, was touched (read
    as the admin role, past RLS)."""
    connection = await asyncpg.connect(test_database().write_url)
    try:
        touched = await connection.fetchval(
            "select (select count(*) from project where tenant_id = $1 and name = $2 "
            "and description = 'touched') + (select count(*) from task where tenant_id = $1 "
            "and title = 'touched')",
            tenant_a.id,
            name,
        )
    finally:
        await connection.close()
    return bool(touched)


async def b_renames_a_project_named(tenant_b: Any, name: str) -> None:
    async with request_transaction(tenant_b) as connection:
        project = await connection.fetchval(
            "insert into project (tenant_id, name) values ($1, $2) returning id", tenant_b.id, name
        )
        await connection.execute("update project set name = $1 where id = $2", f"{name} 2", project)


async def test_a_clean_database_runs_nothing_as_owner() -> None:
    """The project's own owner-rights triggers (audit, the SET NULL of a tenant key) are
    the declared ones: nothing to report."""
    from refresh.rls.check import registered_apps
    from refresh.rls.check.owner_rights import owner_rights_problems
    from refresh.rls.check.roles import object_problems
    from refresh.schema.state import declared_state

    declared = {a.app_name: declared_state(a).state for a in registered_apps() if a.table_classes}
    assert any(
        key.on_delete == "set null"
        for s in declared.values()
        for t in s.values()
        for key in t.tenant_keys.values()
    ), "a SET NULL trigger to except"
    assert [p.render() for p in await owner_rights_problems(declared)] == []
    assert [p.render() for p in await object_problems()] == []


@pytest.mark.parametrize("mistake", list(MISTAKES))
async def test_owner_rights_are_reported_and_the_printed_fixes_close_them(
    mistake: str, tenant_a: Any, tenant_b: Any
) -> None:
    make, undo, expected, run_as = MISTAKES[mistake]
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database,
        f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}'); "
        "insert into task (tenant_id, project_id, title) "
        f"select tenant_id, id, name from project where name = '{name}'",
    )
    try:
        superuser_sql(database, make)
        await b_renames_a_project_named(tenant_b, name)
        assert await a_touched(tenant_a, name), "B's rename should have reached A's rows"
        superuser_sql(
            database,
            f"update project set description = '' where tenant_id = '{tenant_a.id}'; "
            f"update task set title = '{name}' where tenant_id = '{tenant_a.id}' "
            "and title = 'touched'",
        )

        result = await asyncio.to_thread(check)
        report = json.loads((await asyncio.to_thread(check, "--json")).stdout)
        assert result.returncode == 1, result.stdout
        found = sorted((p["code"], p["table"] or "") for p in report["problems"])
        assert found == sorted(expected), report
        for problem in report["problems"]:
            assert problem["cause"] is None
            assert f"fix: {problem['fix']['text']}" in result.stdout
            if problem["table"]:
                assert problem["fix"]["run_as"] == run_as
        for problem in report["problems"]:
            await asyncio.to_thread(follow, problem["fix"])

        after = await asyncio.to_thread(check)
        assert after.returncode == 0, after.stdout
        await b_renames_a_project_named(tenant_b, name)
        assert not await a_touched(tenant_a, name), "after the fixes B's rename stays in B"
    finally:
        superuser_sql(
            database,
            f"{undo}; delete from task where title in ('{name}', 'touched'); "
            f"delete from project where name like '{name}%'",
        )
    assert (await asyncio.to_thread(check)).returncode == 0


async def test_revoking_execute_alone_leaves_the_trigger_running_as_owner(
    tenant_a: Any, tenant_b: Any
) -> None:
    """security_definer_executable's fix makes the function uncallable, not the trigger
    harmless: the check goes on naming it, and B still reaches A's row."""
    database = test_database()
    name = f"Launch {uuid.uuid4()}"
    superuser_sql(
        database, f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{name}')"
    )
    try:
        superuser_sql(database, f"set role refresh_admin; {TOUCH_FUNCTION}{TOUCH_TRIGGER}")
        report = json.loads((await asyncio.to_thread(check, "--json")).stdout)
        [revoke] = [p for p in report["problems"] if p["code"] == "security_definer_executable"]
        await asyncio.to_thread(follow, revoke["fix"])

        report = json.loads((await asyncio.to_thread(check, "--json")).stdout)
        assert [p["code"] for p in report["problems"]] == ["trigger_runs_as_owner"]
        await b_renames_a_project_named(tenant_b, name)
        assert await a_touched(tenant_a, name)
    finally:
        superuser_sql(
            database,
            "drop trigger if exists touch_same_name on project; "
            "drop function if exists touch_same_name(); "
            f"delete from project where name like '{name}%'",
        )
