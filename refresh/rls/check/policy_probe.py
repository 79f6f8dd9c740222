"""Declared policies the server refuses, found before `piccolo rls new` writes them:
a typo in a rule would otherwise make a migration `forwards` fails on.

Probed on the app's tables that exist; a column the rule names that the table class has
and the table lacks yet (its migration not written or not run) is no typo. Only errors
of the expression count. Without a database the command writes as before (its diff
needs none)."""

from __future__ import annotations

import re

import asyncpg
from piccolo.conf.apps import AppConfig, Finder

from refresh.db.clients import write_client
from refresh.rls.check.problems import Fix, Problem
from refresh.rls.live import ProbeError, canonical_policies, live_tables
from refresh.schema.state import declared_state
from refresh.tenancy.verify import declaration_mistakes

UNDEFINED_COLUMN = re.compile(r'column "(?:[^"]*\.)?([^".]+)" does not exist')
LIVE_COLUMNS = (
    "select column_name as name from information_schema.columns"
    " where table_schema = 'public' and table_name = $1"
)


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
    if app_config is None or declaration_mistakes(app_config):
        return []  # `rls new` names the unknown app, or the mistakes, itself
    try:
        live = await live_tables()
        state = declared_state(app_config).state
        _, errors = await canonical_policies({t: s for t, s in state.items() if t in live})
        refused = await in_expressions(app_config, errors)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return []  # no database to probe: `forwards` will say
    return [policy_invalid(app_name, e) for e in refused]


async def in_expressions(app_config: AppConfig, errors: list[ProbeError]) -> list[ProbeError]:
    """The errors of the expressions themselves: not a busy table, not a column the table
    class has and a migration not yet run adds (the rule will be right once it ran)."""
    classes = {t._meta.tablename: t for t in app_config.table_classes}
    refused = []
    for error in errors:
        if not error.in_expression:
            continue
        missing = UNDEFINED_COLUMN.search(error.message)
        table = classes.get(error.table)
        if error.sqlstate == "42703" and missing and table is not None:
            declared = {c._meta.db_column_name for c in table._meta.columns}
            rows = await write_client.fetch(LIVE_COLUMNS, error.table)
            if missing[1] in declared - {r["name"] for r in rows}:
                continue
        refused.append(error)
    return refused
