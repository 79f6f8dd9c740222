"""Which tables hold a tenant's rows, found from the declarations, in dependency order.

- The tenant root table (its row is keyed by `id`).
- Every table declared sharded by tenant (`Distribution.by_tenant`) with a `tenant_id`
  column: the tenant tables, and the audit log. These are what an export holds.
- Tables that refer to the tenant root without being tenant data (the admin's staff
  profiles: which login belongs to which tenant): erased with the tenant, never exported,
  since they point at logins, which are not the tenant's.

A new tenant table is found here as soon as its class is in an app of the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.table import Table

from refresh.compat.piccolo import referenced_table
from refresh.registry import app_packages
from refresh.rls.tables import AuditLog, OperatorAction
from refresh.tenancy.declarations import TENANT_COLUMN, Distribution, declaration_of
from refresh.tenancy.tables import tenant_root_table


class DependencyCycle(RuntimeError):
    """Tenant tables refer to each other in a cycle: no order to insert them in."""


@dataclass(frozen=True)
class TenantRows:
    """One table of a tenant's rows (a description, not the table class: TenantTable is
    that): `key` is the column that holds the tenant's id."""

    name: str
    table: type[Table]
    key: str
    exported: bool

    @property
    def is_audit_log(self) -> bool:
        return self.table is AuditLog


def _has_column(table: type[Table], name: str) -> bool:
    return any(c._meta.db_column_name == name for c in table._meta.columns)


def _refers_to(table: type[Table], target: type[Table]) -> bool:
    return any(referenced_table(c) is target for c in table._meta.foreign_key_columns)


def tenant_tables() -> list[TenantRows]:
    """Every table holding rows of a tenant, parents before children (the order to insert
    in; erase goes the other way). The audit log comes last: nothing refers to it, and an
    import restores it after the triggers' own entries are cleared."""
    root = tenant_root_table()
    found: dict[str, TenantRows] = {}
    for config, _ in app_packages():
        for table in config.table_classes:
            declaration = declaration_of(table)
            name = table._meta.tablename
            if table is OperatorAction:
                # the audit log's side (refresh/lifecycle/audit.py): erased with the
                # tenant's entries, never exported (a tenant does not learn operators' names)
                continue
            if table is root:
                found[name] = TenantRows(name, table, "id", exported=True)
            elif declaration is None or not _has_column(table, TENANT_COLUMN):
                continue
            elif declaration.distribution is Distribution.by_tenant:
                found[name] = TenantRows(name, table, TENANT_COLUMN, exported=True)
            elif _refers_to(table, root):
                found[name] = TenantRows(name, table, TENANT_COLUMN, exported=False)
    return dependency_order(list(found.values()))


def dependency_order(tables: list[TenantRows]) -> list[TenantRows]:
    """Parents first, from the declared foreign keys (Piccolo's and TenantForeignKeys);
    ties keep registry order, so the order is stable, but for the tenant's own row, first
    (an import reads it before the rest: restore.py); the audit log last."""
    names = {t.name for t in tables}
    parents = {
        t.name: {
            referenced_table(c)._meta.tablename
            for c in t.table._meta.foreign_key_columns
            if referenced_table(c)._meta.tablename in names
            and referenced_table(c)._meta.tablename != t.name
        }
        for t in tables
    }
    ordered: list[TenantRows] = []
    placed: set[str] = set()
    pending = [t for t in tables if not t.is_audit_log]
    while pending:
        ready = sorted(
            (t for t in pending if parents[t.name] <= placed), key=lambda t: t.key != "id"
        )
        if not ready:
            cycle = ", ".join(sorted(t.name for t in pending))
            raise DependencyCycle(f"the foreign keys of these tables form a cycle: {cycle}")
        ordered.append(ready[0])
        placed.add(ready[0].name)
        pending.remove(ready[0])
    return ordered + [t for t in tables if t.is_audit_log]


def exported_tables() -> list[TenantRows]:
    return [t for t in tenant_tables() if t.exported]


AUDIT_LOG = AuditLog._meta.tablename
OPERATOR_ACTION = OperatorAction._meta.tablename
