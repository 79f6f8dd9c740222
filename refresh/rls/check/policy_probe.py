"""Declared policies the server refuses, found before `piccolo rls new` writes them:
a typo in a rule would otherwise make a migration `forwards` fails on.

Only where the probe can be trusted: the app's tables exist as its table classes say (no
schema change waiting for Piccolo's migration, every migration applied), so a column the
rule names and the table lacks is the rule's fault; and only errors of the expression
itself. Without a database the command writes as before (its diff needs none)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig, Finder

from refresh.rls.check.problems import Fix, Problem
from refresh.rls.live import ProbeError, canonical_policies, live_tables
from refresh.schema.generate import pending_schema_changes
from refresh.schema.state import declared_state
from refresh.tenancy.verify import all_mistakes


def policy_invalid(app_name: str, error: ProbeError) -> Problem:
    return Problem(
        "policy_invalid",
        error.table,
        f"declared policy {error.policy} is refused by the server: {error.message}",
        Fix(
            edit=f"correct the expression of {error.policy} in the table's rls declaration",
            commands=(f"piccolo rls new {app_name}", "piccolo migrations forwards all"),
        ),
        app_name,
    )


async def refused_policies(app_name: str) -> list[Problem]:
    app_config = Finder().get_app_registry().app_configs.get(app_name)
    if app_config is None or all_mistakes(app_config.table_classes):
        return []  # `rls new` names the unknown app, or the mistakes, itself
    if not Path(app_config.resolved_migrations_folder_path).is_dir():  # noqa: ASYNC240
        return []  # a new app: none of its tables exists yet
    try:
        if not await tables_as_declared(app_config):
            return []
        live = await live_tables()
        state = declared_state(app_config).state
        _, errors = await canonical_policies({t: s for t, s in state.items() if t in live})
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return []  # no database to probe: `forwards` will say
    return [policy_invalid(app_name, e) for e in errors if e.in_expression]


async def tables_as_declared(app_config: AppConfig) -> bool:
    """Every migration of the app applied, and none missing for its table classes."""
    modules = BaseMigrationManager().get_migration_modules(
        app_config.resolved_migrations_folder_path
    )
    applied = set(await Migration.get_migrations_which_ran(app_name=app_config.app_name))
    return set(modules) <= applied and not await pending_schema_changes(app_config)
