"""`piccolo rls check`: declarations vs migrations vs the live database, plus the rules of
DESIGN.md that a database can break silently. Exit 1 with a report, or 0 when clean.

Problems come with their causes: a table class that is wrong, a declaration no migration
records, a migration not applied, each explains the problems of the live database that
follow from it, which the report lists under it (their fixes would be the wrong ones)."""

from __future__ import annotations

from dataclasses import replace

from piccolo.conf.apps import AppConfig, Finder

from refresh.rls import APP_NAME as RLS_APP
from refresh.rls.check.citus import citus_problems
from refresh.rls.check.exposure import exposure_problems
from refresh.rls.check.indexes import index_problems
from refresh.rls.check.migrations import (
    applied_problems,
    declaration_problems,
    placement_problems,
    rls_migration_problems,
    schema_problems,
)
from refresh.rls.check.missing import missing_table
from refresh.rls.check.owner_rights import owner_rights_problems
from refresh.rls.check.policy_probe import in_expressions, policy_invalid
from refresh.rls.check.problems import Fix, Problem, report, report_json, sql
from refresh.rls.check.roles import object_problems, policy_form_problems, read_role_problems
from refresh.rls.check.tables import table_problems
from refresh.rls.live import LiveTable, canonical_policies, live_tables
from refresh.rls.live_keys import live_keys
from refresh.schema.migration_sql import render
from refresh.schema.placement import APP_NAME as PLACEMENT_APP
from refresh.schema.state import AppState, declared_state

#: What the live database shows when a table's declaration or migrations are behind.
LIVE_DRIFT = frozenset(
    {
        "rls_disabled",
        "rls_not_forced",
        "policy_missing",
        "policy_not_declared",
        "policy_differs",
        "grant_missing",
        "grant_not_declared",
        "tenant_default_missing",
        "updated_at_trigger_missing",
        "audit_trigger_missing",
        "audit_trigger_not_declared",
        "audit_trigger_differs",
        "tenant_key_missing",
        "tenant_key_differs",
        "tenant_key_index_missing",
        "tenant_target_key_missing",
        "tenant_primary_key_missing",
        "fk_without_tenant_id",
        "tenant_id_without_index",
        "table_missing",
    }
)
DECLARATION = frozenset(
    {
        "undeclared_table",
        "bound_to_write_client",
        "tenant_table_without_tenant_id",
        "plain_key_between_tenant_tables",
        "tenant_key_not_between_tenant_tables",
        "key_across_placements",
        "restrictive_policy",
        "audit_not_declared",
        "tenant_rows_shared",
        "policy_without_tenant_check",
        "tenant_rows_key_not_uuid_id",
        "declared_policy_subquery",
        "unique_across_tenants",
    }
)
#: cause -> the codes of the same table it explains (its fix clears them too)
TABLE_CAUSES: dict[str, frozenset[str]] = {
    **dict.fromkeys(DECLARATION, LIVE_DRIFT | {"rls_not_migrated", "placement_not_migrated"}),
    # its fix (`piccolo rls new APP`) writes the placement migration too
    "rls_not_migrated": LIVE_DRIFT | {"placement_not_migrated"},
    "placement_not_migrated": frozenset({"table_not_distributed", "table_placement_differs"}),
    "policy_not_declared": frozenset(
        {
            "policy_subquery",
            "policy_volatile_function",
            "policy_column_without_index",
            "shard_policy_differs",
        }
    ),
    "policy_differs": frozenset({"shard_policy_differs"}),
    # the rule is rewritten in the class, and `rls new` replaces the policy in the database
    "declared_policy_subquery": LIVE_DRIFT
    | {"rls_not_migrated", "placement_not_migrated", "policy_subquery"},
    # the declaration is wrong: `rls new` refuses to write it until corrected
    "policy_invalid": LIVE_DRIFT | {"rls_not_migrated", "placement_not_migrated"},
    # its fix, the primary key (tenant_id, id), is an index leading with tenant_id
    "tenant_primary_key_missing": frozenset({"tenant_id_without_index"}),
}
#: cause -> the codes of the same app's tables it explains
APP_CAUSES: dict[str, frozenset[str]] = {
    # its fix ends with `piccolo rls new APP` and forwards, which `rls new` refuses until
    # the expression is right
    "policy_invalid": frozenset(
        {"schema_not_migrated", "migration_not_applied", "migration_out_of_order"}
    ),
    # its fix (`piccolo rls new APP`) writes the RLS migration too
    "schema_not_migrated": LIVE_DRIFT | {"rls_not_migrated", "placement_not_migrated"},
    # a project trigger function its migration redefines (refresh/rls/check/owner_rights.py)
    "migration_not_applied": LIVE_DRIFT | {"trigger_runs_as_owner"},
    "migration_out_of_order": LIVE_DRIFT,
    # the migrations compared with the code lack what the lost file recorded
    "migration_file_missing": frozenset(
        {"schema_not_migrated", "rls_not_migrated", "placement_not_migrated"}
    ),
    # two RLS migrations made on separate branches: generating again on top of the
    # merged declarations (its fix) also clears what the merge left behind
    "migration_branch_conflict": LIVE_DRIFT
    | {"rls_not_migrated", "migration_out_of_order", "migration_not_applied"},
}


def registered_apps() -> list[AppConfig]:
    registry = Finder().get_app_registry()
    return [
        config
        for config in registry.app_configs.values()
        if config.table_classes or config.app_name in (RLS_APP, PLACEMENT_APP)
    ]


async def code_problems(apps: list[AppConfig]) -> list[Problem]:
    problems: list[Problem] = []
    for app in apps:
        problems += declaration_problems(app)
        problems += await schema_problems(app)
        problems += rls_migration_problems(app)
    problems += placement_problems(apps)
    for app in registered_apps():
        problems += await applied_problems(app)
    return problems


async def live_problems(apps: list[AppConfig], declared: dict[str, AppState]) -> list[Problem]:
    live = await live_tables()
    keys = await live_keys()
    problems: list[Problem] = []
    for app in apps:
        state = declared[app.app_name]
        present = {t: s for t, s in state.items() if t in live}
        canonical, probe_errors = await canonical_policies(present)
        refused = await in_expressions(app, probe_errors)
        problems += [policy_invalid(app.app_name, e) for e in refused]
        for table, table_state in canonical.items():
            problems += table_problems(app.app_name, table, table_state, live[table], keys)
        for table in sorted(set(state) - set(live)):  # a root only once its migrations ran
            problems.append(missing_table(app, table, state[table]))
    in_code = {t._meta.tablename for app in apps for t in app.table_classes}
    problems += stray_table_problems(live, in_code)
    tenant_tables = [
        t for s in declared.values() for t, ts in s.items() if ts.kind == "tenant" and t in live
    ]
    keys_declared = {k for s in declared.values() for t in s.values() for k in t.tenant_keys}
    problems += await index_problems(tenant_tables, keys_declared)
    problems += await read_role_problems()
    problems += await object_problems()
    problems += await exposure_problems()
    problems += await owner_rights_problems(declared)
    problems += await policy_form_problems()
    problems += await citus_problems(declared)
    return problems


def code_cause(problem: Problem, problems: list[Problem]) -> Problem | None:
    """The first problem that explains this one by its code: of its table, then of its
    app (TABLE_CAUSES, APP_CAUSES: a graph without cycles)."""
    for cause in problems:
        explains = TABLE_CAUSES.get(cause.code, frozenset())
        if cause is not problem and cause.table and cause.table == problem.table:
            if problem.code in explains:
                return cause
    for cause in problems:
        explains = APP_CAUSES.get(cause.code, frozenset())
        if cause is not problem and cause.app and cause.app == problem.app:
            if problem.code in explains:
                return cause
    return None


def with_causes(problems: list[Problem]) -> list[Problem]:
    """Each problem linked to the root cause that explains it, if one was found: the
    report shows each root once, at the top, and what it explains under it.

    First by code. Then, of the problems of one table with the very same fix that no code
    explains (a missing index a foreign key and the policies both need), the first stands
    for the others: following each of them would run the same statement twice."""
    direct = {id(p): code_cause(p, problems) for p in problems}

    def root(problem: Problem) -> Problem | None:
        cause, seen = direct[id(problem)], {id(problem)}
        while cause is not None and direct[id(cause)] is not None and id(cause) not in seen:
            seen.add(id(cause))
            cause = direct[id(cause)]
        return cause

    roots = {id(p): root(p) for p in problems}
    first_of_fix: dict[tuple[str, Fix], Problem] = {}
    stands_for: dict[int, Problem] = {}  # a root -> the root it is grouped under
    for problem in problems:
        if roots[id(problem)] is None and problem.table is not None:
            first = first_of_fix.setdefault((problem.table, problem.fix), problem)
            if first is not problem:
                stands_for[id(problem)] = first  # a root itself: no chain to follow
    # what a grouped root explained goes under the one that stands for it, with it
    final = {i: stands_for.get(i if r is None else id(r), r) for i, r in roots.items()}
    return [p if final[id(p)] is None else replace(p, cause=final[id(p)]) for p in problems]


async def collect_problems() -> tuple[list[Problem], str]:
    apps = [a for a in registered_apps() if a.table_classes]
    declared = {app.app_name: declared_state(app).state for app in apps}
    problems = await code_problems(apps) + await live_problems(apps, declared)
    tables = sum(len(s) for s in declared.values())
    policies = sum(len(t.policies) for s in declared.values() for t in s.values())
    return with_causes(problems), f"{tables} tables, {policies} policies"


#: Tables of the tooling itself, not of the application.
TOOLING_TABLES = {"migration"}


def stray_table_problems(live: dict[str, LiveTable], in_code: set[str]) -> list[Problem]:
    """Live tables no table class names: they must at least be locked (RLS on and forced,
    no grant to a request role), since nobody decided who may see their rows."""
    problems = []
    for name in sorted(set(live) - in_code):
        state = live[name].state
        if state.enabled and state.forced and not state.grants:
            continue
        grants = state.grants
        exposed = f"; {', '.join(grants)} can already read or write it" if grants else ""
        statements = [
            f"alter table {name} enable row level security;",
            f"alter table {name} force row level security;",
            *(f"revoke all on {name} from {{{role}}};" for role in sorted(grants)),
        ]
        if name in TOOLING_TABLES:
            statements = statements[:2]
        problems.append(
            Problem(
                "table_not_declared",
                name,
                f"table is in the database but no app has a table class for it{exposed}; "
                "until one declares it, it must be locked",
                sql(render(" ".join(statements))),
            )
        )
    return problems


async def run_check(as_json: bool = False) -> int:
    problems, checked = await collect_problems()
    print(report_json(problems) if as_json else report(problems, checked))
    return 1 if problems else 0
