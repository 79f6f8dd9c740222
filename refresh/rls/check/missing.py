"""A declared table that is not in the database.

Behind a migration not yet run (or a table not migrated yet) it is that migration's
problem, whose fix (`forwards`, `rls new`) makes it. When every migration ran, the table
was dropped outside them, and `forwards` would not make it again (Piccolo records the
migration as applied): the fix is the table as its class and its declaration make it,
the SQL of its Piccolo migration and of its RLS migration. It comes back empty; its rows
are for a backup to restore.
"""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from refresh.rls.check.problems import Fix, Problem
from refresh.schema.migration_sql import render
from refresh.schema.sqlgen import state_sql
from refresh.schema.state import TableState


def missing_table(app: AppConfig, table: str, declared: TableState) -> Problem:
    table_class = next(t for t in app.table_classes if t._meta.tablename == table)
    statements = [*table_class.create_table().ddl]
    recreate = ";\n".join(statements) + ";\n" + render(state_sql({}, {table: declared}))
    # under a migration not run, the report lists it below that cause, whose fix applies
    message = (
        "declared table is not in the database (if its migrations ran, it was dropped "
        "outside them: the fix makes it again, empty)"
    )
    return Problem("table_missing", table, message, Fix(sql=recreate), app.app_name)
