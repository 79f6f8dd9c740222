"""The RLS status page of the operators' admin: `piccolo rls status` in a browser.

The rows are the command's own (refresh/rls/status.py `collect_status`, read in the
operator's transaction): one per table of schema public, tenant or global, RLS enabled
and forced, audited, its policies and the request roles' grants. The page's `?format=json`
is the JSON of `piccolo rls status --json` (apps/admin/pages.py).
"""

from __future__ import annotations

from html import escape
from typing import Any

from refresh.rls.status import TableStatus, as_dicts, grants_text, rows_text

# Kinds as an operator reads them (refresh/tenancy/declarations.py).
KINDS = {
    "tenant": "tenant",
    "rls": "tenant (own policies)",
    "global": "global",
    "undeclared": "undeclared",
    "not-in-code": "not in code",
}
HEADERS = ("App", "Table", "Kind", "RLS", "Forced", "Audited", "Policies", "Grants", "Rows")


def status_json(rows: list[TableStatus]) -> dict[str, Any]:
    return {"tables": as_dicts(rows)}


def flag(value: bool | None, warn_if_not: bool = True) -> str:
    """yes/no; a `no` marked where every table should say yes (RLS enabled, forced)."""
    if value is None:
        return '<td class="none">-</td>'
    css = "warn" if warn_if_not and not value else "ok" if value else "none"
    return f'<td class="{css}">{"yes" if value else "no"}</td>'


def policies_cell(row: TableStatus) -> str:
    if not row.in_database:
        return "<td>-</td>"
    if not row.policies:
        return '<td class="none">none (deny all to request roles)</td>'
    items = []
    for p in row.policies:
        expressions = [
            f"{label} <code>{escape(value)}</code>"
            for label, value in (("using", p["using"]), ("check", p["with_check"]))
            if value is not None
        ]
        kind = "" if p["permissive"] else " restrictive"
        roles = ", ".join(p["roles"])
        items.append(
            f"<li><b>{escape(p['name'])}</b> {escape(p['command'].upper())}{kind}"
            f" to {escape(roles)} {' '.join(expressions)}</li>"
        )
    return f'<td><ul class="policies">{"".join(items)}</ul></td>'


def table_row(row: TableStatus) -> str:
    grants = grants_text(row.grants) if row.in_database else "(not in the database)"
    return (
        f'<tr data-table="{escape(row.table)}">'
        f"<td>{escape(row.app or '-')}</td>"
        f"<th scope=row>{escape(row.table)}</th>"
        f"<td>{escape(KINDS.get(row.kind, row.kind))}</td>"
        f"{flag(row.rls_enabled)}{flag(row.rls_forced)}{flag(row.audited, warn_if_not=False)}"
        f"{policies_cell(row)}"
        f"<td>{escape(grants)}</td>"
        f'<td class="number">{escape(rows_text(row))}</td>'
        "</tr>"
    )


def status_html(rows: list[TableStatus]) -> str:
    head = "".join(f"<th scope=col>{h}</th>" for h in HEADERS)
    body = "".join(table_row(row) for row in rows)
    tenant = sum(1 for r in rows if r.kind in ("tenant", "rls"))
    return (
        "<h1>Row-level security</h1>"
        f"<p>{len(rows)} tables in schema public, {tenant} holding tenants' rows. The same "
        'rows as <code>piccolo rls status</code> (<a href="?format=json">JSON</a>); '
        "<code>piccolo rls check</code> judges them against the declarations. Grants: "
        "the request roles' only. Rows: PostgreSQL's estimate; ? = not analysed yet.</p>"
        f'<table class="status"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
