"""A database upgraded with rows that break a check a migration adds: the migration names the
table, the check, the number of rows and the query that lists them, changes nothing, and runs
once the rows are corrected (the advice followed as printed). Real CLI, real database."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg

from tests.scratch import scratch_database

NIL_LOOKING = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"  # a slug shaped like a tenant id


def run(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    return asyncio.run(go())


def listing_query(output: str, table: str) -> str:
    [query] = re.findall(rf"list them with: (select \* from \"?{table}\"?[^\n]*?);\n", output)
    return query


def test_rows_breaking_a_new_check_are_named_and_nothing_changes() -> None:
    with scratch_database("preflight") as db:
        db.piccolo("migrations", "forwards", "all")
        db.piccolo("tenants", "demo")
        db.piccolo(  # back to before "due dates are finite" (and the migrations after it)
            "migrations",
            "backwards",
            "tasks",
            "--migration_id=2026-12-06T16:51:58:196879",
            "--auto_agree",
        )
        db.piccolo("migrations", "backwards", "tenants", "--auto_agree")  # slug not an id
        url = db.env["WRITE_DATABASE_URL"]
        acme = run(url, "select id from tenant where slug = 'acme'")[0]["id"]
        run(url, "update tenant set slug = $1 where slug = 'globex'", NIL_LOOKING)
        run(
            url,
            "update task set due_at = 'infinity' where id in"
            " (select id from task where tenant_id = $1 order by id limit 2)",
            acme,
        )
        tasks_before = run(url, "select id, due_at from task order by id")

        refused = db.piccolo("migrations", "forwards", "all", check=False)
        output = refused.stdout + refused.stderr
        assert "1 row of tenant breaks the check tenant_slug_not_an_id" in output, output
        assert "nothing was changed" in output and "Traceback" not in output
        # the refusal alone, ending the output: not targ's "The command failed." with
        # the command's whole help after it
        assert refused.returncode == 1
        assert refused.stderr.endswith(
            "nothing was changed: correct those rows, then run the migrations again\n"
        ), refused.stderr
        assert "The command failed" not in output and "--trace" not in output, output
        constraints = "select conname from pg_constraint where conname = any($1)"
        names = ["tenant_slug_not_an_id", "tenant_id_not_nil", "task_due_at_finite"]
        assert run(url, constraints, names) == []
        # The listing query, as printed, finds the row; once corrected, tenants migrate
        # and the tasks' check names its two rows.
        assert [r["slug"] for r in run(url, listing_query(output, "tenant"))] == [NIL_LOOKING]
        run(url, "update tenant set slug = 'globex' where slug = $1", NIL_LOOKING)

        refused = db.piccolo("migrations", "forwards", "all", check=False)
        output = refused.stdout + refused.stderr
        assert "2 rows of task break the check task_due_at_finite" in output, output
        assert run(url, "select id, due_at from task order by id") == tasks_before
        listed = run(url, listing_query(output, "task"))
        assert len(listed) == 2 and {r["tenant_id"] for r in listed} == {acme}
        run(url, "update task set due_at = null where not isfinite(due_at)")

        db.piccolo("migrations", "forwards", "all")
        assert {r["conname"] for r in run(url, constraints, names)} == set(names)
        assert db.piccolo("rls", "check", check=False).returncode == 0
