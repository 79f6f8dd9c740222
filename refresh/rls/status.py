"""`piccolo rls status`: what every table of schema public is, and its RLS, as it is live.

One row per table: the table classes of every registered app (with their declared kind)
plus any other table in public (kind `not-in-code`, e.g. Piccolo's `migration`). The
catalogs are read through the write client, as only the admin role can see every policy,
grant and row estimate. This reports; `piccolo rls check` judges. The operators' admin
shows the same rows (`collect_status`) on its RLS status page (apps/admin/rls_page.py).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from piccolo.conf.apps import Finder

from refresh.db.clients import write_client
from refresh.rls.live import LiveTable, live_tables
from refresh.rls.live_keys import live_audit
from refresh.tenancy.declarations import declaration_of
from settings import get_settings

# reltuples is -1 until the table is first vacuumed or analysed (PostgreSQL 14+), which
# live.py clamps to 0: such an estimate is unknown, not zero.
NEVER_ANALYSED_SQL = """
select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p') and c.reltuples < 0
"""

NOT_IN_CODE = "not-in-code"
UNDECLARED = "undeclared"


@dataclass
class TableStatus:
    app: str | None
    table: str
    kind: str  # tenant | rls | global | undeclared | not-in-code
    in_database: bool
    rls_enabled: bool | None = None
    rls_forced: bool | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)
    grants: dict[str, list[str]] = field(default_factory=dict)
    estimated_rows: int | None = None
    audited: bool | None = None  # the audit trigger is on the table


def role_name(key: str) -> str:
    """live.py keys request roles as authenticated/anonymous: show the configured names."""
    s = get_settings()
    return {"authenticated": s.authenticated_role, "anonymous": s.anonymous_role}.get(key, key)


def table_status(
    app: str | None,
    table: str,
    kind: str,
    live: LiveTable | None,
    analysed: bool,
    audited: bool = False,
) -> TableStatus:
    if live is None:
        return TableStatus(app, table, kind, in_database=False)
    state = live.state
    policies = [
        {
            "name": name,
            "command": policy.command,
            "permissive": policy.permissive,
            "roles": [role_name(r) for r in policy.roles],
            "using": policy.using,
            "with_check": policy.with_check,
        }
        for name, policy in sorted(state.policies.items())
    ]
    return TableStatus(
        app,
        table,
        kind,
        in_database=True,
        rls_enabled=state.enabled,
        rls_forced=state.forced,
        policies=policies,
        grants={role_name(r): list(privs) for r, privs in sorted(state.grants.items())},
        estimated_rows=live.estimated_rows if analysed else None,
        audited=audited,
    )


def declared_tables() -> list[tuple[str, str, str]]:
    """(app, table, kind) of every table class of the registered apps, in registry order."""
    return [
        (app_name, table._meta.tablename, getattr(declaration_of(table), "kind", UNDECLARED))
        for app_name, config in Finder().get_app_registry().app_configs.items()
        for table in config.table_classes
    ]


async def collect_status() -> list[TableStatus]:
    """Tables in app registry order, then the live tables no app declares, by name."""
    live = await live_tables()
    audited = set(await live_audit())
    never_analysed = {r["name"] for r in await write_client.fetch(NEVER_ANALYSED_SQL)}
    rows: list[TableStatus] = []
    seen: set[str] = set()
    for app_name, name, kind in declared_tables():
        analysed = name not in never_analysed
        rows.append(table_status(app_name, name, kind, live.get(name), analysed, name in audited))
        seen.add(name)
    for name in sorted(set(live) - seen):
        analysed = name not in never_analysed
        rows.append(table_status(None, name, NOT_IN_CODE, live[name], analysed, name in audited))
    return rows


def yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def rows_text(row: TableStatus) -> str:
    if not row.in_database:
        return "-"
    return "?" if row.estimated_rows is None else f"~{row.estimated_rows}"


def grants_text(grants: dict[str, list[str]]) -> str:
    return "; ".join(f"{role}: {','.join(privs)}" for role, privs in grants.items()) or "-"


def policy_lines(policies: list[dict[str, Any]]) -> list[str]:
    """A table's policies, indented under it, their columns aligned."""
    cells = []
    for p in policies:
        expressions = []
        if p["using"] is not None:
            expressions.append(f"USING {p['using']}")
        if p["with_check"] is not None:
            expressions.append(f"WITH CHECK {p['with_check']}")
        kind = "permissive" if p["permissive"] else "restrictive"
        roles = "to " + ",".join(p["roles"])
        cells.append((p["name"], p["command"].upper(), kind, roles, "  ".join(expressions)))
    if not cells:
        return []
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    return [
        "    " + "  ".join(v.ljust(w) for v, w in zip(c[:4], widths, strict=True)) + "  " + c[4]
        for c in cells
    ]


def render_text(rows: list[TableStatus]) -> str:
    header = ("APP", "TABLE", "KIND", "RLS", "FORCED", "AUDITED", "POLICIES", "GRANTS", "EST. ROWS")
    cells = [
        (
            row.app or "-",
            row.table,
            row.kind,
            yes_no(row.rls_enabled),
            yes_no(row.rls_forced),
            yes_no(row.audited),
            str(len(row.policies)) if row.in_database else "-",
            grants_text(row.grants) if row.in_database else "(not in the database)",
            rows_text(row),
        )
        for row in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(header)]
    for row, values in zip(rows, cells, strict=True):
        out.append(line(values))
        out.extend(policy_lines(row.policies))
    out.append("")
    out.append("EST. ROWS: PostgreSQL's estimate (pg_class.reltuples); ? = not analysed yet.")
    return "\n".join(out)


def as_dicts(rows: list[TableStatus]) -> list[dict[str, Any]]:
    """The rows as `--json` prints them (and the admin's RLS status page serves them)."""
    return [
        {
            "app": row.app,
            "table": row.table,
            "kind": row.kind,
            "in_database": row.in_database,
            "rls_enabled": row.rls_enabled,
            "rls_forced": row.rls_forced,
            "audited": row.audited,
            "policies": row.policies,
            "grants": row.grants,
            "estimated_rows": row.estimated_rows,
        }
        for row in rows
    ]


def render_json(rows: list[TableStatus]) -> str:
    return json.dumps({"tables": as_dicts(rows)}, indent=2)


async def run_status(as_json: bool) -> int:
    try:
        rows = await collect_status()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # An unreachable database is an operator's problem to read, not a traceback.
        print(f"cannot read the database through the admin role: {exc}", file=sys.stderr)
        return 1
    print(render_json(rows) if as_json else render_text(rows))
    return 0
