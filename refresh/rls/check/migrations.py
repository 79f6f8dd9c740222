"""Checks of code against migrations: what `piccolo migrations new --auto` and
`piccolo rls new` would generate, what has not run, and migrations that conflict."""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from collections.abc import Mapping

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig

from refresh.rls.check.problems import Problem
from refresh.schema.state import UndeclaredTable, declared_state, migrated_state


def declaration_problems(app: AppConfig) -> list[Problem]:
    try:
        declared_state(app)
    except UndeclaredTable as exc:
        return [
            Problem(
                "undeclared_table",
                table,
                f"table class of app {app.app_name} declares neither tenant isolation nor "
                "a global table, so nobody decided who may see its rows",
                "give it `rls = tenant_rls()` (or subclass TenantTable), "
                "`row_security(...)`, or `global_table(reason)` in its tables.py",
            )
            for table in exc.tables
        ]
    return []


async def schema_problems(app: AppConfig) -> list[Problem]:
    """Table classes that differ from their migrations (Piccolo exits 0 either way)."""
    with contextlib.redirect_stdout(io.StringIO()):
        statements = await AutoMigrationManager(auto_input="n").get_alter_statements(app)
    pending = [s for group in statements for s in group.statements]
    if not pending:
        return []
    return [
        Problem(
            "schema_not_migrated",
            None,
            f"the table classes of app {app.app_name} differ from its migrations "
            f"({len(pending)} change{'s' if len(pending) != 1 else ''} not in any migration)",
            f"piccolo migrations new {app.app_name} --auto, review it, then "
            "piccolo migrations forwards all",
        )
    ]


def rls_migration_problems(app: AppConfig) -> list[Problem]:
    """Declarations that no RLS migration records yet."""
    try:
        declared = declared_state(app)
    except UndeclaredTable:
        return []  # reported by declaration_problems
    recorded = migrated_state(app).state
    changed = sorted(t for t in set(declared) | set(recorded) if declared.get(t) != recorded.get(t))
    return [
        Problem(
            "rls_not_migrated",
            table,
            f"the RLS declaration of {table} differs from what app {app.app_name}'s "
            "migrations record",
            f"piccolo rls new {app.app_name}, review it, then piccolo migrations forwards all",
        )
        for table in changed
    ]


async def applied_problems(app: AppConfig) -> list[Problem]:
    """Migrations not yet applied, and unapplied ones that would run out of order."""
    modules = BaseMigrationManager().get_migration_modules(app.resolved_migrations_folder_path)
    applied = set(await Migration.get_migrations_which_ran(app_name=app.app_name))
    unapplied = sorted(set(modules) - applied)
    newest_applied = max(applied) if applied else None
    problems = []
    for migration_id in unapplied:
        if newest_applied is not None and migration_id < newest_applied:
            problems.append(
                Problem(
                    "migration_out_of_order",
                    None,
                    f"migration {migration_id} of app {app.app_name} is not applied but is "
                    f"older than the applied {newest_applied}: it was probably created on "
                    "another branch, and would now run after changes it never saw",
                    f"if it only adds what {newest_applied} does not touch, apply it with "
                    f"piccolo migrations forwards {app.app_name}; otherwise delete it and "
                    f"regenerate it on top of the current state (piccolo migrations new "
                    f"{app.app_name} --auto, or piccolo rls new {app.app_name})",
                )
            )
        else:
            problems.append(
                Problem(
                    "migration_not_applied",
                    None,
                    f"migration {migration_id} of app {app.app_name} has not run on this database",
                    "piccolo migrations forwards all",
                )
            )
    return problems + branch_problems(app, modules, applied)


def branch_problems(
    app: AppConfig, modules: Mapping[str, object], applied: set[str]
) -> list[Problem]:
    """Two RLS migrations generated on top of the same one: made on separate branches.

    Each records the migration it was diffed against (PREVIOUS_RLS); siblings each undo
    the other's policies when they run, whichever order that is.
    """
    children: dict[object, list[str]] = defaultdict(list)
    for migration_id, module in sorted(modules.items()):
        if hasattr(module, "RLS_STATE"):
            children[getattr(module, "PREVIOUS_RLS", None)].append(migration_id)
    problems = []
    for parent, siblings in children.items():
        pending = [s for s in siblings if s not in applied]
        if len(siblings) > 1 and pending:
            problems.append(
                Problem(
                    "migration_branch_conflict",
                    None,
                    f"RLS migrations {', '.join(siblings)} of app {app.app_name} were all "
                    f"generated on top of {parent or 'no RLS migration'}, i.e. on separate "
                    "branches; each would undo the other's policies",
                    f"delete the unapplied one{'s' if len(pending) > 1 else ''} "
                    f"({', '.join(pending)}), then run piccolo rls new {app.app_name} "
                    "again: it diffs against the merged declarations",
                )
            )
    return problems
