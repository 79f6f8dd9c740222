"""A migration that adds a check to a table with rows refuses, before it changes anything,
rows that already break the check, and says how to find them. PostgreSQL's own error
(`check constraint "x" of relation "t" is violated by some row`) names no row, and the
developer or operator deploying it is left to guess which ones.

`refuse_breaking_rows(manager)` is called by the migration (see
migrations/tasks/tasks_2026_12_06t16_51_58_196879.py): Piccolo runs a migration's raw steps
first, inside the migration's transaction, so a refusal leaves the database as it was.
"""

from __future__ import annotations

from typing import Any

from refresh.compat.piccolo import added_checks
from refresh.db.sql import ident
from refresh.schema.migration_sql import migration_connection
from refresh.schema.refusal import MigrationRefused


class RowsBreakNewCheck(MigrationRefused):
    """Existing rows break a check the migration adds: nothing was changed."""


def breaking_rows_sql(table: str, condition: str) -> str:
    """The rows a check refuses: those where its condition is false (NULL passes, as in
    PostgreSQL's CHECK)."""
    name = ".".join(ident(part) for part in table.split("."))
    return f"select * from {name} where ({condition}) is false"


def refuse_breaking_rows(manager: Any) -> None:
    """Adds the pre-flight to a migration: call it once the migration's checks are added."""

    async def preflight() -> None:
        problems = []
        async with migration_connection() as connection:
            for table, name, condition in added_checks(manager):
                found = breaking_rows_sql(table, condition)
                count = await connection.fetchval(f"select count(*) from ({found}) breaking")
                if count:
                    rows = "1 row" if count == 1 else f"{count} rows"
                    verb = "breaks" if count == 1 else "break"
                    problems.append(
                        f"{rows} of {table} {verb} the check {name} ({condition}) that this"
                        f" migration adds; list them with: {found};"
                    )
        if problems:
            raise RowsBreakNewCheck(
                "\n".join(problems)
                + "\nnothing was changed: correct those rows, then run the migrations again"
            )

    manager.add_raw(preflight)
