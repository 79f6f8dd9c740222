"""Checks of each declared table against the live database: RLS switched on and forced,
a policy per command, policies and grants exactly as declared (in both directions)."""

from __future__ import annotations

from refresh.rls.check.problems import Problem
from refresh.rls.live import LiveTable
from refresh.schema.migration_sql import render
from refresh.schema.sqlgen import table_sql
from refresh.schema.state import PolicyState, TableState
from refresh.tenancy.declarations import COMMANDS

NEW_RLS = "piccolo rls new {app}, then piccolo migrations forwards all"


def repair(table: str, before: TableState, after: TableState, app: str) -> str:
    """The fix for live drift: the SQL restoring the declaration, or a new declaration."""
    statements = " ".join(render(s).replace("\n", " ") for s in table_sql(table, before, after))
    return (
        f"if the database was changed by hand, restore it: {statements}  "
        f"If the change is wanted, declare it and run piccolo rls new {app}"
    )


def only(
    policies: dict[str, PolicyState] | None = None, grants: dict[str, tuple[str, ...]] | None = None
) -> TableState:
    return TableState("rls", True, True, policies or {}, grants or {})


def table_problems(app: str, table: str, declared: TableState, live: LiveTable) -> list[Problem]:
    fix = NEW_RLS.format(app=app)
    state = live.state
    problems = []

    def add(code: str, message: str, fix_text: str = fix) -> None:
        problems.append(Problem(code, table, message, fix_text))

    if declared.enabled and not state.enabled:
        add(
            "rls_disabled",
            "row level security is not enabled: policies are ignored and every tenant "
            "sees every row",
            f"{fix} (or: ALTER TABLE {table} ENABLE ROW LEVEL SECURITY)",
        )
    if declared.forced and not state.forced:
        add(
            "rls_not_forced",
            "row level security is not forced: the table owner's queries skip the policies",
            f"{fix} (or: ALTER TABLE {table} FORCE ROW LEVEL SECURITY)",
        )
    if not declared.enabled and state.enabled:
        add("rls_unexpected", "row level security is enabled but the table is declared global")
    if declared.kind == "tenant":
        for command in COMMANDS:
            covering = [
                p
                for p in state.policies.values()
                if p.permissive and p.command in (command, "all") and "authenticated" in p.roles
            ]
            if not covering:
                add(
                    "missing_policy",
                    f"no permissive {command.upper()} policy for authenticated: every "
                    f"{command} is refused, or the table relies on policies nobody declared",
                )
    problems += policy_problems(app, table, declared, state)
    problems += grant_problems(app, table, declared, state)
    if declared.tenant_default and not state.tenant_default:
        add("tenant_default_missing", "tenant_id has no DEFAULT auth.tenant_id()")
    if declared.updated_at_trigger and not state.updated_at_trigger:
        add(
            "updated_at_trigger_missing",
            f"no {table}_set_updated_at trigger: updated_at goes stale on updates",
        )
    return problems


def describe(policy: PolicyState) -> str:
    kind = "permissive" if policy.permissive else "restrictive"
    text = f"{kind} {policy.command} to {', '.join(policy.roles)}"
    if policy.using is not None:
        text += f" using {policy.using}"
    if policy.with_check is not None:
        text += f" with check {policy.with_check}"
    return text


def policy_problems(app: str, table: str, declared: TableState, live: TableState) -> list[Problem]:
    problems = []
    for name in sorted(set(declared.policies) | set(live.policies)):
        want, have = declared.policies.get(name), live.policies.get(name)
        if want == have:
            continue
        if have is None:
            assert want is not None
            message = f"declared policy {name} ({describe(want)}) is not in the database"
            code = "policy_missing"
        elif want is None:
            message = f"policy {name} ({describe(have)}) is in the database but not declared"
            code = "policy_not_declared"
        else:
            fields = [
                f"{field}: declared {getattr(want, field)!r}, database {getattr(have, field)!r}"
                for field in ("command", "roles", "permissive", "using", "with_check")
                if getattr(want, field) != getattr(have, field)
            ]
            message = f"policy {name} differs from its declaration ({'; '.join(fields)})"
            code = "policy_differs"
        before = only({name: have} if have else {})
        after = only({name: want} if want else {})
        problems.append(Problem(code, table, message, repair(table, before, after, app)))
    return problems


def grant_problems(app: str, table: str, declared: TableState, live: TableState) -> list[Problem]:
    problems = []
    for role in sorted(set(declared.grants) | set(live.grants)):
        want, have = set(declared.grants.get(role, ())), set(live.grants.get(role, ()))
        fix = repair(table, only(grants={role: tuple(have)}), only(grants={role: tuple(want)}), app)
        if want - have:
            missing = ", ".join(sorted(want - have)).upper()
            problems.append(
                Problem(
                    "grant_missing",
                    table,
                    f"{role} lacks {missing}: those queries fail with permission denied",
                    fix,
                )
            )
        if have - want:
            extra = ", ".join(sorted(have - want)).upper()
            problems.append(
                Problem("grant_not_declared", table, f"{role} holds undeclared {extra}", fix)
            )
    return problems
