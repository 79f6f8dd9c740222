"""Checks of each declared table against the live database: RLS switched on and forced,
policies, grants, default, triggers, audit and tenant keys exactly as declared, in both
directions. The fix of each is the SQL that restores the declaration (its migrations
recorded the same: a drift found here was made by hand, or by a migration not yet run,
which the report then names as the cause)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from refresh.db.sql import ident
from refresh.rls.check.problems import Fix, Problem, sql
from refresh.rls.live import LiveTable
from refresh.rls.live_keys import LiveKeys
from refresh.schema.migration_sql import render
from refresh.schema.sqlgen import create_tenant_key, key_sql, table_sql
from refresh.schema.state import AUDIT_TRIGGER, PolicyState, TableState, TenantKeyState


def restore(table: str, declared: TableState, **live: Any) -> Fix:
    """The SQL taking the table from its live value of these fields back to the declared."""
    before = replace(declared, **live)
    drops, creates = key_sql(table, before, declared)
    statements = drops + table_sql(table, before, declared) + creates
    return sql(" ".join(render(s).replace("\n  ", " ") for s in statements))


def disabled_trigger_problems(
    app: str, table: str, declared: TableState, keys: LiveKeys
) -> list[Problem]:
    """A trigger that exists but is disabled (by hand, e.g. for a bulk load), or fires on a
    replica only, does nothing: the checks of its presence alone would pass. The audit and
    updated_at triggers only as declared: one the declaration does not want (or wants
    otherwise) is another problem, whose fix drops or remakes it."""
    problems = []
    for trigger in sorted(keys.disabled_triggers.get(table, ())):
        if trigger == AUDIT_TRIGGER:
            if declared.audit is None or keys.audit.get(table) != declared.audit:
                continue
            effect = "changes to the table are not audited"
        elif trigger == f"{table}_set_updated_at":
            if not declared.updated_at_trigger:
                continue
            effect = "updated_at goes stale on updates"
        else:
            effect = "it does nothing"
        fix = sql(f"alter table {ident(table)} enable trigger {ident(trigger)};")
        problems.append(
            Problem("trigger_disabled", table, f"trigger {trigger} is disabled: {effect}", fix, app)
        )
    return problems


def table_problems(
    app: str, table: str, declared: TableState, live: LiveTable, keys: LiveKeys
) -> list[Problem]:
    state = live.state
    problems = []

    def add(code: str, message: str, **live_fields: Any) -> None:
        fix = restore(table, declared, **live_fields)
        problems.append(Problem(code, table, message, fix, app))

    if declared.enabled and not state.enabled:
        add(
            "rls_disabled",
            "row level security is not enabled: policies are ignored and every tenant "
            "sees every row",
            enabled=False,
        )
    if declared.forced and not state.forced:
        add(
            "rls_not_forced",
            "row level security is not forced: the table owner's queries skip the policies",
            forced=False,
        )
    problems += policy_problems(app, table, declared, state)
    problems += grant_problems(app, table, declared, state)
    if declared.tenant_default and not state.tenant_default:
        add(
            "tenant_default_missing",
            "tenant_id has no DEFAULT auth.tenant_id()",
            tenant_default=False,
        )
    if declared.updated_at_trigger and not state.updated_at_trigger:
        add(
            "updated_at_trigger_missing",
            f"no {table}_set_updated_at trigger: updated_at goes stale on updates",
            updated_at_trigger=False,
        )
    audit = keys.audit.get(table)
    if declared.audit != audit:
        if audit is None:
            add("audit_trigger_missing", "changes to the table are not audited", audit=None)
        elif declared.audit is None:
            add("audit_trigger_not_declared", "an audit trigger nobody declared", audit=audit)
        else:
            add("audit_trigger_differs", f"the audit trigger records {audit}", audit=audit)
    problems += disabled_trigger_problems(app, table, declared, keys)
    problems += key_problems(app, table, declared, keys)
    if declared.tenant_keyed and table not in keys.tenant_keyed:
        t = ident(table)
        problems.append(
            Problem(
                "tenant_primary_key_missing",
                table,
                "the primary key is not (tenant_id, id): tenant keys to the table have no "
                "target, and Citus cannot shard it by tenant",
                sql(
                    f"alter table {t} drop constraint if exists {ident(table + '_pkey')}; "
                    f"alter table {t} add primary key (tenant_id, id);"
                ),
                app,
            )
        )
    if declared.target_key is not None and not keys.unique_keys.get(table):
        add(
            "tenant_target_key_missing",
            "no unique (tenant_id, id): tenant foreign keys to the table cannot exist",
            target_key=None,
        )
    return problems


def key_problems(app: str, table: str, declared: TableState, keys: LiveKeys) -> list[Problem]:
    live = keys.tenant_keys.get(table, {})
    problems = []
    for name, key in sorted(declared.tenant_keys.items()):
        have = live.get(name)
        if have is None:
            message = (
                f"no composite key {name} ({key.column} -> {key.references}): a row could "
                "point at another tenant's row"
            )
            fix = restore(table, declared, tenant_keys=without(declared, name))
            problems.append(Problem("tenant_key_missing", table, message, fix, app))
        elif (have.column, have.references, have.on_delete) != (
            key.column,
            key.references,
            key.on_delete,
        ):
            message = (
                f"composite key {name} is ({have.column} -> {have.references}, on delete "
                f"{have.on_delete}), declared ({key.column} -> {key.references}, on delete "
                f"{key.on_delete})"
            )
            # The constraint (and its SET NULL trigger) only: its index may serve other
            # access paths too.
            create = create_tenant_key(table, name, key)
            statements = [
                f"alter table {ident(table)} drop constraint {ident(name)};",
                create[0],
                *create[2:],
            ]
            fix = sql(" ".join(s.replace("\n  ", " ") for s in statements))
            problems.append(Problem("tenant_key_differs", table, message, fix, app))
        elif not have.index:
            message = f"no index leads with (tenant_id, {key.column}), the columns of {name}"
            statement = create_tenant_key(table, name, key)[1]
            problems.append(
                Problem("tenant_key_index_missing", table, message, sql(statement), app)
            )
    return problems


def without(declared: TableState, name: str) -> dict[str, TenantKeyState]:
    return {n: k for n, k in declared.tenant_keys.items() if n != name}


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
        policies = {n: p for n, p in declared.policies.items() if n != name}
        if have is not None:
            policies[name] = have
        fix = restore(table, declared, policies=policies)
        problems.append(Problem(code, table, message, fix, app))
    return problems


def grant_problems(app: str, table: str, declared: TableState, live: TableState) -> list[Problem]:
    problems = []
    for role in sorted(set(declared.grants) | set(live.grants)):
        want, have = set(declared.grants.get(role, ())), set(live.grants.get(role, ()))
        grants = {**declared.grants, role: tuple(sorted(have))}
        fix = restore(table, declared, grants={r: p for r, p in grants.items() if p})
        if want - have:
            missing = ", ".join(sorted(want - have)).upper()
            message = f"{role} lacks {missing}: those queries fail with permission denied"
            problems.append(Problem("grant_missing", table, message, fix, app))
        if have - want:
            extra = ", ".join(sorted(have - want)).upper()
            message = f"{role} holds undeclared {extra}"
            problems.append(Problem("grant_not_declared", table, message, fix, app))
    return problems
