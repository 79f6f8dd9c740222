"""Which tables the staff site may show: those its requests read through RLS.

Tenant staff reach the staff site inside the API's request transaction on the read
client, switched to the request role with claims for their one tenant
(apps/admin/gate.py). A page's queries are isolated there only if they run on that
connection (the table is bound to the read client) and the table's policies let the
request role read it (its declaration grants select). A table bound to the write client
runs its queries on a connection of its own as the admin role, which bypasses RLS, and
the write engine does not refuse in a staff request (refresh/db/scope.py: piccolo-admin
reads its session tables there): every tenant's staff would list and edit every tenant's
rows. A global table with a tenant_id holds per-tenant rows that its `true` policies
show to everyone. Building the staff site refuses such pages, before any request is
served; operators, who see every tenant anyway, keep them (ADMIN_OPERATOR_PAGES).
"""

from __future__ import annotations

from piccolo.table import Table

from refresh.db.engines import READ_DB
from refresh.tenancy.declarations import (
    AUTHENTICATED,
    TENANT_COLUMN,
    GlobalTable,
    RowSecurity,
    declaration_of,
)
from refresh.tenancy.tenant_rows import holds_tenant_rows


class StaffPageRefused(RuntimeError):
    """An app lists a page on the staff site that tenant staff would not read through RLS."""


def why_not_isolated(table: type[Table]) -> str | None:
    """Why tenant staff would not read `table` through RLS as their request role, or None."""
    declaration = declaration_of(table)
    if declaration is None:
        return "it has no `rls` declaration, so nobody decided who may see its rows"
    if table._meta.db is not READ_DB:
        return (
            "it is bound to the write client, which bypasses RLS: the staff of every "
            "tenant would list and edit every tenant's rows"
        )
    if "select" not in declaration.grants.get(AUTHENTICATED, ()):
        return (
            f"its declaration grants the request role ({AUTHENTICATED}) no select, so "
            "RLS gives tenant staff none of its rows"
        )
    if isinstance(declaration, GlobalTable) and holds_tenant_rows(table):
        return (
            f"it is a global table with a {TENANT_COLUMN} column: its rows belong to "
            "tenants, yet its policies show every tenant's rows to every tenant's staff"
        )
    return None


def advice(table: type[Table], module: str) -> str:
    """What makes the page acceptable, followed literally (tests/apps/admin/
    test_staff_pages.py applies each)."""
    cls = table.__name__
    operators_only = (
        f"if only operators should see it, move its page from ADMIN_PAGES to "
        f"ADMIN_OPERATOR_PAGES in {module} (the staff site does not get those)"
    )
    declaration = declaration_of(table)
    derive = (
        f"derive it from ReadClientTable, listed before Table: "
        f"`class {cls}(ReadClientTable, ..., Table)` (from refresh.tenancy.tables), and "
        if table._meta.db is not READ_DB
        else ""
    )
    if holds_tenant_rows(table) and not isinstance(declaration, RowSecurity):
        staff = (
            f"if each tenant's staff should see their own rows, make it a tenant table: "
            f"`class {cls}(TenantTable, Table)` (from refresh.tenancy.tables), with no "
            "`rls = ...` of its own (TenantTable's isolates by tenant_id)"
        )
    elif isinstance(declaration, RowSecurity):
        staff = f"if tenant staff should see it, {derive}grant {AUTHENTICATED} select in its rls"
    else:
        staff = (
            f"if every tenant's staff should read all of its rows, {derive}declare "
            f'`rls = global_table(reason, grants={{AUTHENTICATED: ("select",)}})`'
        )
    return f"{operators_only}; or, {staff}, with its migration (`piccolo rls new APP`)"


def check_staff_pages(pages: list[tuple[str, type[Table]]]) -> None:
    """Refuse the staff site if any (module listing it, table) page is not isolated."""
    problems = []
    for module, table in pages:
        reason = why_not_isolated(table)
        if reason is not None:
            problems.append(
                f"table class {table.__name__} (table {table._meta.tablename}), listed in "
                f"{module}, cannot be a page of the tenant staff's admin site: {reason}. "
                f"Fix: {advice(table, module)}."
            )
    if problems:
        raise StaffPageRefused("\n".join(problems))
