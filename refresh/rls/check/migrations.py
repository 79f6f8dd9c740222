"""Checks of code against migrations: what `piccolo migrations new --auto` and
`piccolo rls new` would generate, what has not run, and migrations that conflict."""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig

from refresh.rls.check.problems import Fix, Problem, commands
from refresh.schema.placement import migrated_placement, placement_app_config, placement_of_apps
from refresh.schema.state import declared_state, migrated_state
from refresh.tenancy.verify import all_mistakes

FORWARDS = "piccolo migrations forwards all"


def declaration_problems(app: AppConfig) -> list[Problem]:
    """Mistakes in the app's table classes (refresh/tenancy/verify.py)."""
    return [
        Problem(m.code, m.table, m.message, Fix(edit=m.fix), app.app_name)
        for m in all_mistakes(app.table_classes)
    ]


async def schema_problems(app: AppConfig) -> list[Problem]:
    """Table classes that differ from their migrations (Piccolo exits 0 either way)."""
    if not Path(app.resolved_migrations_folder_path).is_dir():  # noqa: ASYNC240
        pending: list[str] = [t._meta.tablename for t in app.table_classes]  # a new app
    else:
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
            # rls new writes Piccolo's auto migration first, then the RLS one after it.
            commands(f"piccolo rls new {app.app_name}", FORWARDS),
            app.app_name,
        )
    ]


def rls_migration_problems(app: AppConfig) -> list[Problem]:
    """Declarations that no RLS migration records yet."""
    declared = declared_state(app).state
    recorded = migrated_state(app).state
    changed = sorted(t for t in set(declared) | set(recorded) if declared.get(t) != recorded.get(t))
    return [
        Problem(
            "rls_not_migrated",
            table,
            f"the RLS declaration of {table} differs from what app {app.app_name}'s "
            "migrations record",
            commands(f"piccolo rls new {app.app_name}", FORWARDS),
            app.app_name,
        )
        for table in changed
    ]


def placement_problems(apps: list[AppConfig]) -> list[Problem]:
    """Declared placements (where a table lives on Citus) that no placement migration
    records: on Citus, `forwards` would leave those tables where they are."""
    placement_app = placement_app_config()
    if placement_app is None:
        return []
    declared = placement_of_apps(declared=True)
    recorded = migrated_placement(placement_app)
    app_of = {t._meta.tablename: app.app_name for app in apps for t in app.table_classes}
    return [
        Problem(
            "placement_not_migrated",
            table,
            f"declared {declared.get(table, 'unmanaged')} but the placement migrations "
            f"record {recorded.get(table, 'nothing')} for it",
            commands(f"piccolo rls new {app_of[table]}", FORWARDS),
            app_of[table],
        )
        for table in sorted(set(declared) | set(recorded))
        if declared.get(table) != recorded.get(table) and table in app_of
    ]


async def applied_problems(app: AppConfig) -> list[Problem]:
    """Migrations not yet applied, unapplied ones that would run out of order, and
    applied ones whose files are gone."""
    folder = app.resolved_migrations_folder_path
    if not Path(folder).is_dir():  # noqa: ASYNC240 (a new app: nothing to apply yet)
        return []
    modules = BaseMigrationManager().get_migration_modules(folder)
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
                    "another branch, and now runs after changes it never saw (if it touches "
                    "what those changed, delete it and generate it again instead)",
                    commands(f"piccolo migrations forwards {app.app_name}"),
                    app.app_name,
                )
            )
        else:
            problems.append(
                Problem(
                    "migration_not_applied",
                    None,
                    f"migration {migration_id} of app {app.app_name} has not run on this database",
                    commands(FORWARDS),
                    app.app_name,
                )
            )
    problems += missing_file_problems(app, folder, applied - set(modules))
    return problems + branch_problems(app, modules, applied)


def missing_file_problems(app: AppConfig, folder: str, gone: set[str]) -> list[Problem]:
    """Migrations that ran here but whose files are gone: a new database would not get
    what they did, `backwards` cannot undo them, and the next RLS migration is diffed
    against a state this database does not have."""
    problems = []
    for migration_id in sorted(gone):
        # the file name `piccolo migrations new` gives the ID
        stamp = migration_id.replace("-", "_").replace(":", "_").replace("T", "t")
        path = file_of(Path(folder) / f"{app.app_name}_{stamp}.py")
        problems.append(
            Problem(
                "migration_file_missing",
                None,
                f"migration {migration_id} of app {app.app_name} ran on this database but "
                "its file is gone: a new database would not get what it did, and "
                "`backwards` cannot undo it",
                Fix(
                    edit=f"restore {path} (e.g. `git checkout HEAD -- {path}`); to undo "
                    "what it did, write a new migration"
                ),
                app.app_name,
            )
        )
    return problems


def file_of(module: object) -> str:
    """A migration module's file, relative to the project root when it is inside it."""
    path = Path(str(getattr(module, "__file__", module)))
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


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
                    Fix(
                        edit=f"delete {' and '.join(file_of(modules[m]) for m in pending)}",
                        commands=(f"piccolo rls new {app.app_name}", FORWARDS),
                    ),
                    app.app_name,
                )
            )
    return problems
