"""Mistakes in a table class that would leak a tenant's rows, found from the class alone.

`piccolo rls new` refuses to generate while any is left, `piccolo rls check` reports them,
and the app refuses to start with them (app.py), so none can serve a request:

- a table class with no declaration (nobody decided who sees its rows);
- a table declared under RLS, or a global table granting request roles access, but bound
  to the write client, which bypasses RLS (a plain `class Note(Table)` with
  `rls = tenant_rls()`);
- a table of tenants' rows under custom policies (row_security) that says neither that
  it is audited nor why not;
- a tenant table without a tenant_id column;
- a table of tenants' rows shared as global, under a policy that does not isolate
  tenants, keyed other than by one UUID id, or with a value unique across tenants; a
  declared policy with a subquery (refresh/tenancy/tenant_rows.py);
- a plain ForeignKey from a tenant table to another tenant table (its check ignores RLS:
  it must be a TenantForeignKey), or a TenantForeignKey to a table that is not one;
- a RESTRICTIVE policy on a table Citus keeps in shards (sharded by tenant, or a reference
  table): Citus re-creates it as permissive there;
- a foreign key between tables declared where Citus cannot check it
  (refresh/tenancy/placement_keys.py): harmless on one server, it would stop the move to
  Citus, so it is refused on every server.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from piccolo.columns import ForeignKey
from piccolo.conf.apps import AppConfig, Finder
from piccolo.table import Table

from refresh.compat.piccolo import referenced_table
from refresh.db.engines import READ_DB
from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.declarations import (
    TENANT_COLUMN,
    Distribution,
    GlobalTable,
    RowSecurity,
    declaration_of,
)
from refresh.tenancy.placement_keys import placement_fix, uncheckable
from refresh.tenancy.tenant_rows import (
    holds_tenant_rows,
    key_problem,
    not_isolated_message,
    policies_with_subquery,
    policies_without_isolation,
    shared_tenant_rows,
    subquery_message,
    unique_across_tenants,
)

#: Where Citus keeps a table's rows in shards, and re-creates its policies on them.
IN_SHARDS = (Distribution.by_tenant, Distribution.reference)


@dataclass(frozen=True)
class DeclarationMistake:
    code: str
    table: str  # the table's name in the database
    message: str
    fix: str


def kind_of(table: type[Table]) -> str | None:
    declaration = declaration_of(table)
    return None if declaration is None else declaration.kind


def mistakes(table: type[Table], tables: Collection[type[Table]] = ()) -> list[DeclarationMistake]:
    """`tables`: the others its keys, and theirs to it, are checked with (its app's)."""
    name, cls = table._meta.tablename, table.__name__
    declaration = declaration_of(table)
    found: list[DeclarationMistake] = []

    def add(code: str, message: str, fix: str) -> None:
        found.append(DeclarationMistake(code, name, message, fix))

    if declaration is None:
        add(
            "undeclared_table",
            f"table class {cls} declares neither tenant isolation nor a global table, so "
            "nobody decided who may see its rows",
            f"make it a tenant table: `class {cls}(TenantTable, Table)` (from "
            "refresh.tenancy.tables), or declare `rls = global_table(reason)` on it, or "
            f"derive it from ReadClientTable (`class {cls}(ReadClientTable, Table)`) and "
            "declare `rls = row_security(...)` on it",
        )
        return found
    if isinstance(declaration, RowSecurity) and table._meta.db is not READ_DB:
        add(
            "bound_to_write_client",
            f"table class {cls} is declared under RLS but bound to the write client, which "
            "bypasses RLS: inside a request its queries see every tenant's rows",
            f"derive it from TenantTable (or ReadClientTable), listed before Table: "
            f"`class {cls}(TenantTable, Table)`",
        )
    if (
        isinstance(declaration, GlobalTable)
        and declaration.grants
        and table._meta.db is not READ_DB
    ):
        granted = ", ".join(sorted(declaration.grants))
        add(
            "bound_to_write_client",
            f"table class {cls} is a global table that grants {granted} access, but it is "
            "bound to the write client, which bypasses its RLS and grants: requests cannot "
            "use it, and a staff page of it would read and write as the admin role",
            f"derive it from ReadClientTable, listed before Table: "
            f"`class {cls}(ReadClientTable, Table)` (from refresh.tenancy.tables)",
        )
    if declaration.kind == "tenant" and TENANT_COLUMN not in _columns(table):
        add(
            "tenant_table_without_tenant_id",
            f"table class {cls} is declared a tenant table but has no {TENANT_COLUMN} column",
            f"derive it from TenantTable: `class {cls}(TenantTable, Table)`",
        )
    if (
        isinstance(declaration, RowSecurity)
        and declaration.audit is None
        and TENANT_COLUMN in _columns(table)
    ):
        add(
            "audit_not_declared",
            f"table class {cls} holds tenants' rows ({TENANT_COLUMN}), but its declaration "
            "says neither that their changes are audited nor why not",
            "add `audit=audited()` to its row_security(...), or `audit=not_audited(reason)` "
            "with the reason a reviewer can judge (both from refresh.tenancy.declarations)",
        )
    if isinstance(declaration, RowSecurity) and declaration.distribution in IN_SHARDS:
        for policy in declaration.policies:
            if not policy.permissive:
                add(
                    "restrictive_policy",
                    f"policy {policy.name} of {cls} is RESTRICTIVE: Citus re-creates it as "
                    "PERMISSIVE on the shards of a table sharded by tenant or a reference "
                    "table, where it would widen access instead of narrowing it",
                    _restrictive_fix(declaration.kind, policy.name),
                )
    if holds_tenant_rows(table):
        shared = shared_tenant_rows(table, declaration)
        if shared is not None:
            add("tenant_rows_shared", *shared)
        for policy in policies_without_isolation(declaration):
            add("policy_without_tenant_check", *not_isolated_message(table, policy))
    if holds_tenant_rows(table) and isinstance(declaration, RowSecurity):
        # under RLS: what request roles write (a global table's rows are the admin's)
        key = key_problem(table)
        if key is not None:
            add("tenant_rows_key_not_uuid_id", *key)
        for unique in unique_across_tenants(table):
            add("unique_across_tenants", *unique)
    for policy in policies_with_subquery(declaration):
        add("declared_policy_subquery", *subquery_message(table, policy))
    for column in table._meta.foreign_key_columns:
        found += key_mistakes(table, column) + placement_mistakes(table, column, tables)
    return found


def _restrictive_fix(kind: str, policy: str) -> str:
    if kind == "tenant":
        return (
            "fold the rule into the isolation policies: tenant_rls(read_rule=..., write_rule=...)"
        )
    return (
        f"drop {policy} and AND its condition into the permissive policies of the same "
        "command (a permissive policy narrows only by its own condition)"
    )


def placement_mistakes(
    table: type[Table], column: ForeignKey[Table], tables: Collection[type[Table]]
) -> list[DeclarationMistake]:
    if not uncheckable(table, column, {}):
        return []
    target = referenced_table(column)
    here, there = declaration_of(table), declaration_of(target)
    assert here is not None and there is not None
    return [
        DeclarationMistake(
            "key_across_placements",
            table._meta.tablename,
            f"{table.__name__}.{column._meta.name} is a key from a {here.distribution.value} "
            f"table to {target.__name__}, a {there.distribution.value} table: Citus cannot "
            "check it there, and would refuse to place the tables",
            placement_fix(table, column, tables),
        )
    ]


def key_mistakes(table: type[Table], column: ForeignKey[Table]) -> list[DeclarationMistake]:
    name, cls = table._meta.tablename, table.__name__
    attribute = column._meta.name
    target = referenced_table(column)
    if column._meta.db_column_name == TENANT_COLUMN:
        return []  # the reference to the tenant root itself
    tenant_here = kind_of(table) == "tenant"
    tenant_there = kind_of(target) == "tenant"
    if isinstance(column, TenantForeignKey) and not (tenant_here and tenant_there):
        return [
            DeclarationMistake(
                "tenant_key_not_between_tenant_tables",
                name,
                f"{cls}.{attribute} is a TenantForeignKey, but {cls} and "
                f"{target.__name__} are not both tenant tables",
                f"make {cls}.{attribute} a plain ForeignKey({target.__name__}, ...)",
            )
        ]
    if tenant_here and tenant_there and not isinstance(column, TenantForeignKey):
        return [
            DeclarationMistake(
                "plain_key_between_tenant_tables",
                name,
                f"{cls}.{attribute} is a plain ForeignKey to tenant table {target.__name__}: "
                "its check ignores RLS, so a row could point at another tenant's row (and "
                "learn whether it exists)",
                f"declare it `{attribute} = TenantForeignKey({target.__name__}, ...)` (from "
                "refresh.tenancy.columns)",
            )
        ]
    return []


def all_mistakes(tables: Iterable[type[Table]]) -> list[DeclarationMistake]:
    tables = list(tables)
    return [m for table in tables for m in mistakes(table, tables)]


def app_mistakes(
    app_tables: Collection[type[Table]], other_apps: Iterable[Collection[type[Table]]]
) -> list[DeclarationMistake]:
    """An app's own mistakes, and those of the keys of other apps' tables into its tables:
    making a table local, or a tenant table, changes what the keys into it must be, and
    generating the app's migrations would carry the mistake on (each key's fix as `rls
    check` gives it, from its own app's tables)."""
    found = all_mistakes(app_tables)
    for tables in other_apps:
        for table in tables:
            for column in table._meta.foreign_key_columns:
                if referenced_table(column) in app_tables:
                    found += key_mistakes(table, column) + placement_mistakes(table, column, tables)
    return found


def _columns(table: type[Table]) -> set[str]:
    return {c._meta.db_column_name for c in table._meta.columns}


def other_apps(app_config: AppConfig) -> list[AppConfig]:
    configs = Finder().get_app_registry().app_configs.values()
    return [config for config in configs if config.app_name != app_config.app_name]


def declaration_mistakes(app_config: AppConfig) -> list[DeclarationMistake]:
    """What `rls new APP` refuses: app_mistakes among the registered apps."""
    others = [config.table_classes for config in other_apps(app_config)]
    return app_mistakes(app_config.table_classes, others)
