"""`piccolo rls check`: declarations vs migrations vs the live database, plus the rules of
DESIGN.md that a database can break silently. Exit 1 with a report, or 0 when clean."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig, Finder

from refresh.rls.check.database import (
    index_problems,
    object_problems,
    policy_form_problems,
    read_role_problems,
)
from refresh.rls.check.migrations import (
    applied_problems,
    declaration_problems,
    rls_migration_problems,
    schema_problems,
)
from refresh.rls.check.problems import Problem, report, report_json
from refresh.rls.check.tables import table_problems
from refresh.rls.live import LiveTable, canonical_policies, live_tables
from refresh.schema.state import AppState, UndeclaredTable, declared_state


def registered_apps() -> list[AppConfig]:
    registry = Finder().get_app_registry()
    return [
        config
        for config in registry.app_configs.values()
        if config.table_classes or config.app_name == "rls"
    ]


def declared_by_app(apps: list[AppConfig]) -> dict[str, AppState]:
    result = {}
    for app in apps:
        try:
            result[app.app_name] = declared_state(app)
        except UndeclaredTable:
            result[app.app_name] = {}
    return result


async def collect_problems() -> tuple[list[Problem], str]:
    apps = [a for a in registered_apps() if a.table_classes]
    problems: list[Problem] = []
    for app in apps:
        problems += declaration_problems(app)
        problems += await schema_problems(app)
        problems += rls_migration_problems(app)
    for app in registered_apps():
        problems += await applied_problems(app)

    live = await live_tables()
    declared = declared_by_app(apps)
    checked_tables = checked_policies = 0
    for app_name, state in declared.items():
        present = {t: s for t, s in state.items() if t in live}
        canonical, probe_errors = await canonical_policies(present)
        problems += [
            Problem(
                "policy_invalid",
                e.table,
                f"declared policy {e.policy} is refused by the server: {e.message}",
                "correct the expression in the table's rls declaration",
            )
            for e in probe_errors
        ]
        for table, table_state in canonical.items():
            problems += table_problems(app_name, table, table_state, live[table])
            checked_tables += 1
            checked_policies += len(table_state.policies)
        for table in sorted(set(state) - set(live)):
            if not any(p.code.startswith("migration_") for p in problems):
                problems.append(
                    Problem(
                        "table_missing",
                        table,
                        "declared table is not in the database",
                        "piccolo migrations forwards all",
                    )
                )
    problems += stray_table_problems(live, {t for state in declared.values() for t in state})
    tenant_tables = [
        t for s in declared.values() for t, ts in s.items() if ts.kind == "tenant" and t in live
    ]
    problems += await index_problems(tenant_tables)
    problems += await read_role_problems()
    problems += await object_problems()
    problems += await policy_form_problems()
    return problems, f"{checked_tables} tables, {checked_policies} policies"


#: Tables of the tooling itself, not of the application.
TOOLING_TABLES = {"migration"}


def stray_table_problems(live: dict[str, LiveTable], declared: set[str]) -> list[Problem]:
    """Live tables no app declares: nobody decided who may see their rows."""
    problems = []
    for name in sorted(set(live) - declared - TOOLING_TABLES):
        grants = live[name].state.grants
        exposed = f"; {', '.join(grants)} can already read or write it" if grants else ""
        problems.append(
            Problem(
                "table_not_declared",
                name,
                f"table is in the database but in no app's table classes{exposed}",
                "add its table class (with an rls declaration) to an app, or drop the table",
            )
        )
    return problems


async def run_check(as_json: bool = False) -> int:
    problems, checked = await collect_problems()
    print(report_json(problems) if as_json else report(problems, checked))
    return 1 if problems else 0
