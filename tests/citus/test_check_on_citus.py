"""`piccolo rls check` on Citus (TEST_CITUS=1, `make test-citus`): what only a distributed
database can get wrong (a table placed otherwise than declared, a sharded table in a
colocation group of its own, a shard whose policies differ from the coordinator's) is
reported against a fault made in the suite's cluster, and every root fix the report
prints, followed literally, clears it; the check passes again."""

from __future__ import annotations

import json
import os
import shlex
from typing import Any

import asyncpg
import pytest

from tests.database import piccolo, superuser_sql, test_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS"), reason="needs the suite on Citus (make test-citus)"
)


def report() -> tuple[str, list[dict[str, Any]]]:
    text = piccolo("rls", "check", check=False).stdout
    problems = json.loads(piccolo("rls", "check", "--json", check=False).stdout)["problems"]
    return text, problems


async def follow(fix: dict[str, Any]) -> None:
    """A fix, literally: its commands, its SQL as the admin role, then its last commands."""
    assert not fix["edit"], fix["text"]
    for command in (*fix["commands"],):
        run(command)
    if fix["sql"]:
        assert fix["run_as"] == "the admin role", fix
        connection = await asyncpg.connect(test_database().write_url)
        try:
            await connection.execute(fix["sql"])  # several statements
        finally:
            await connection.close()
    for command in fix["then"]:
        run(command)


def run(command: str) -> None:
    words = shlex.split(command)
    assert words[0] == "piccolo", command
    result = piccolo(*words[1:], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


#: a change to an audited table's rows of one tenant
CHANGE = {
    "member": "update member set display_name = display_name || '.'",
    "project": "update project set name = name || '.'",
}

FAULTS = {
    # a table of the coordinator only (the admin's sessions), made a reference table
    "placed otherwise": (
        "select create_reference_table('public.sessions')",
        "sessions",
        "table_placement_differs",
    ),
    # the tenants (a reference table) and every table keyed to them, back on the coordinator
    "tenants undistributed": (
        "select undistribute_table('public.tenant', cascade_via_foreign_keys => true)",
        "tenant",
        "table_not_distributed",
    ),
    # the first table by name: the others are not to follow it into its new group
    "not colocated": (
        "select update_distributed_table_colocation('public.audit_log', colocate_with => 'none')",
        "audit_log",
        "table_not_colocated",
    ),
    # on the coordinator and, propagated, on every shard
    "audit trigger disabled on a sharded table": (
        "set citus.enable_unsafe_triggers = on; alter table project disable trigger audit_change",
        "project",
        "trigger_disabled",
    ),
    "audit trigger dropped from a sharded table": (
        "set citus.enable_unsafe_triggers = on; drop trigger audit_change on project",
        "project",
        "audit_trigger_missing",
    ),
    # Citus re-creates it PERMISSIVE on the shards: narrowing here, widening there
    "restrictive policy on a sharded table": (
        "create policy only_admins on member as restrictive for select to authenticated"
        " using (auth.tenant_role() = 'admin')",
        "member",
        "shard_policy_differs",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_citus_fault_is_reported_and_its_printed_fix_clears_it(
    app: Any, tenant_a: Any, tenant_b: Any, fault: str
) -> None:
    """With two tenants' rows in place: a table moved is moved with its rows."""
    assert piccolo("rls", "check", check=False).returncode == 0  # clean before
    if not await admin_sql("select from project where tenant_id = $1", tenant_a.id):
        await admin_sql("insert into project (tenant_id, name) values ($1, 'moved')", tenant_a.id)
    make, table, code = FAULTS[fault]
    superuser_sql(test_database(), make)
    text, problems = report()
    assert any(p["code"] == code and p["table"] == table for p in problems), text
    if code == "table_not_colocated":  # the one table moved out, not all the others
        assert [p["table"] for p in problems if p["code"] == code] == [table], text
    roots = [p for p in problems if p["cause"] is None]
    for problem in roots:  # what the text says is what the JSON says
        assert f"fix: {problem['fix']['text']}" in text
    rows = await counts()
    for problem in roots:
        await follow(problem["fix"])
    after = piccolo("rls", "check", check=False)
    assert after.returncode == 0, after.stdout
    # rows moved to their shards are not changed rows: nothing for the audit trail...
    assert await counts() == rows
    # ...and its trigger is on again: a change on the shards of the table concerned (of a
    # table it took along, for the tenants) is audited
    changed = await admin_sql(
        CHANGE.get(table, CHANGE["member"]) + " where tenant_id = $1 returning id", tenant_a.id
    )
    assert changed and await counts() == {**rows, "audit_log": rows["audit_log"] + len(changed)}


async def admin_sql(sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(test_database().write_url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def counts() -> dict[str, int]:
    tables = ("audit_log", "tenant", "member")
    return {t: (await admin_sql(f"select count(*) from {t}"))[0][0] for t in tables}
