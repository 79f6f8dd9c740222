"""`piccolo rls check` against faults made in a real database: exit 1 naming the table and
the problem, root causes first; then every fix the report prints is followed literally
(its SQL run as the role it names, its commands run), and the check passes again."""

from __future__ import annotations

import asyncio
import json
import shlex
from typing import Any

import asyncpg
import pytest

from tests.database import piccolo, superuser_sql, test_database
from tests.refresh.rls.faults import FAULTS


def check(*args: str):
    return piccolo("rls", "check", *args, check=False)


def test_clean_database_passes():
    result = check()
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("✓ piccolo rls check: no problems")
    as_json = json.loads(check("--json").stdout)
    assert as_json == {"ok": True, "problems": []}


def as_admin(sql: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(test_database().write_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def follow(fix: dict[str, Any]) -> None:
    """Do what a fix says, literally: its commands, then its SQL as the role it names."""
    assert not fix["edit"], f"a database fault needs no code change: {fix['text']}"
    for command in fix["commands"]:
        words = shlex.split(command)
        assert words[0] == "piccolo", command
        result = piccolo(*words[1:], check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    if fix["sql"]:
        if fix["run_as"] == "a superuser":
            superuser_sql(test_database(), fix["sql"])
        else:
            assert fix["run_as"] == "the admin role", fix
            as_admin(fix["sql"])


def test_a_policy_that_only_says_select_has_no_subquery() -> None:
    """A subquery is read from the policy's parsed expression, not from its text: the
    string 'select' in a condition is no subquery (only an undeclared policy)."""
    as_admin(
        "create policy says_select on member as restrictive for select to authenticated "
        "using (email <> 'select')"
    )
    try:
        codes = [p["code"] for p in json.loads(check("--json").stdout)["problems"]]
        assert "policy_not_declared" in codes and "policy_subquery" not in codes, codes
    finally:
        as_admin("drop policy says_select on member")


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_reported_and_its_printed_fix_clears_it(fault):
    make, cleanup, table, code = FAULTS[fault]
    superuser_sql(test_database(), make)
    try:
        result = check()
        report = json.loads(check("--json").stdout)
        assert result.returncode == 1
        assert f"[{code}]" in result.stdout
        matching = [p for p in report["problems"] if p["code"] == code]
        assert matching, report
        assert any(p["table"] == table for p in matching)
        roots = [p for p in report["problems"] if p["cause"] is None]
        for problem in roots:  # what the text says is what the JSON says, literally
            assert f"fix: {problem['fix']['text']}" in result.stdout
        for problem in roots:
            follow(problem["fix"])
        after = check()
        assert after.returncode == 0, after.stdout
    finally:
        if cleanup:
            superuser_sql(test_database(), cleanup)
    if cleanup:  # without one, `after` above was the last word on this database
        assert check().returncode == 0


async def test_tables_left_unforced_by_their_owner_are_reported_in_process(client: Any) -> None:
    """The rls_not_forced report a second way (the CLI test above makes the fault as a
    superuser on member): the owner itself turns FORCE off on two tenant tables, and the
    check's own function (no CLI) names each with the SQL that forces it again."""
    from refresh.db.clients import write_client
    from refresh.rls.check import collect_problems

    tables = ("project", "comment")
    for table in tables:
        await write_client.fetch(f"alter table {table} no force row level security")
    try:
        problems, _ = await collect_problems()
        unforced = {p.table: p for p in problems if p.code == "rls_not_forced"}
        assert set(unforced) == set(tables), [p.render() for p in problems]
        for table, problem in unforced.items():
            assert problem.cause is None  # a root cause, not explained away
            assert f"alter table {table} force row level security" in problem.fix.sql
            await write_client.fetch(problem.fix.sql)
        after, _ = await collect_problems()
        assert [p.render() for p in after] == []
    finally:
        for table in tables:
            await write_client.fetch(f"alter table {table} force row level security")
    forced = await write_client.fetch(
        "select relname, relforcerowsecurity from pg_class where relname = any($1::text[])",
        list(tables),
    )
    assert all(row["relforcerowsecurity"] for row in forced)


def test_a_missing_read_role_is_created_by_its_printed_fix() -> None:
    """The read login role the settings name does not exist (renamed, or dropped after the
    first migration made it): `forwards` would do nothing then, so the fix is the SQL."""
    env = {"AUTHENTICATOR_ROLE": "refresh_reader_renamed"}
    result = piccolo("rls", "check", "--json", check=False, env=env)
    [problem] = json.loads(result.stdout)["problems"]
    assert (problem["code"], problem["message"]) == (
        "read_role_missing",
        "the read login role refresh_reader_renamed does not exist",
    )
    try:
        follow(problem["fix"])
        after = piccolo("rls", "check", check=False, env=env)
        assert after.returncode == 0, after.stdout
    finally:
        superuser_sql(test_database(), "drop role if exists refresh_reader_renamed")
