"""The RLS state of tables, from three sources that `piccolo rls` compares:

- declared:  what the table classes of an app declare (refresh/tenancy), worked out here;
- migrated:  the RLS_STATE recorded by the app's newest `piccolo rls new` migration;
- live:      the catalogs of the database (refresh/rls/live.py).

A table's state is everything `piccolo rls new` generates for it: RLS enabled and forced,
policies, grants, the tenant_id default, the updated_at trigger, the audit trigger, and
the composite tenant foreign keys with their indexes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import AppConfig
from piccolo.table import Table

from refresh.compat.piccolo import referenced_table
from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.declarations import (
    TENANT_COLUMN,
    Audit,
    Distribution,
    GlobalTable,
    RowSecurity,
    declaration_of,
)

AUDIT_TRIGGER = "audit_change"


def normalise_sql(expression: str | None) -> str | None:
    """Whitespace-insensitive form of a declared expression (for declared-vs-migrated)."""
    return None if expression is None else re.sub(r"\s+", " ", expression.strip())


@dataclass(frozen=True)
class PolicyState:
    command: str
    roles: tuple[str, ...]
    permissive: bool
    using: str | None
    with_check: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyState:
        return cls(
            command=data["command"],
            roles=tuple(data["roles"]),
            permissive=data["permissive"],
            using=data["using"],
            with_check=data["with_check"],
        )


@dataclass(frozen=True)
class TenantKeyState:
    """A composite foreign key (tenant_id, column) -> references (tenant_id, id)."""

    column: str
    references: str
    on_delete: str  # cascade | restrict | no action | set null
    index: str  # an index leading with (tenant_id, column)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TenantKeyState:
        return cls(data["column"], data["references"], data["on_delete"], data["index"])


@dataclass(frozen=True)
class AuditState:
    """The audit trigger: the row's tenant from `tenant_column`; `quiet` columns alone
    changing is not worth an entry."""

    tenant_column: str
    quiet: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditState:
        return cls(data["tenant_column"], tuple(data["quiet"]))


@dataclass(frozen=True)
class TableState:
    kind: str  # tenant | rls | global
    enabled: bool
    forced: bool
    policies: dict[str, PolicyState] = field(default_factory=dict)
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tenant_default: bool = False  # tenant_id DEFAULT auth.tenant_id()
    updated_at_trigger: bool = False
    audit: AuditState | None = None
    tenant_keys: dict[str, TenantKeyState] = field(default_factory=dict)  # by constraint
    # The unique (tenant_id, id) that tenant keys reference, where no table-class
    # constraint makes it: its name.
    target_key: str | None = None
    distribution: str | None = None  # by_tenant | reference | local (None: not managed)
    # Tables sharded by tenant: the primary key (tenant_id, id) (Citus wants the
    # distribution column in every unique key), an index on id alone for lookups that name
    # no tenant (operators, the CLI), and the key to the tenant without ON UPDATE CASCADE.
    tenant_keyed: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["policies"] = {name: asdict(p) for name, p in sorted(self.policies.items())}
        data["grants"] = {role: list(privs) for role, privs in sorted(self.grants.items())}
        for policy in data["policies"].values():
            policy["roles"] = list(policy["roles"])
        if self.audit is not None:
            data["audit"]["quiet"] = list(self.audit.quiet)
        data["tenant_keys"] = {n: asdict(k) for n, k in sorted(self.tenant_keys.items())}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableState:
        # Migrations recorded before a field existed did not manage it: its default.
        audit = data.get("audit")
        return cls(
            kind=data["kind"],
            enabled=data["enabled"],
            forced=data["forced"],
            policies={n: PolicyState.from_dict(p) for n, p in data["policies"].items()},
            grants={r: tuple(p) for r, p in data["grants"].items()},
            tenant_default=data["tenant_default"],
            updated_at_trigger=data["updated_at_trigger"],
            audit=None if audit is None else AuditState.from_dict(audit),
            tenant_keys={
                n: TenantKeyState.from_dict(k) for n, k in data.get("tenant_keys", {}).items()
            },
            target_key=data.get("target_key"),
            distribution=data.get("distribution"),
            tenant_keyed=data.get("tenant_keyed", False),
        )


AppState = dict[str, TableState]


@dataclass(frozen=True)
class Declared:
    """An app's declared state, and its table classes that declare nothing."""

    state: AppState
    undeclared: list[str]


def declared_state(app_config: AppConfig) -> Declared:
    """The state the declarations of the app's table classes ask for."""
    state: AppState = {}
    undeclared = []
    for table in app_config.table_classes:
        declaration = declaration_of(table)
        if declaration is None:
            undeclared.append(table._meta.tablename)
        else:
            state[table._meta.tablename] = table_state(declaration, table)
    return Declared(state, undeclared)


def column_names(table: type[Table]) -> set[str]:
    return {c._meta.db_column_name for c in table._meta.columns}


def table_state(declaration: RowSecurity | GlobalTable, table: type[Table]) -> TableState:
    columns = column_names(table)
    grants = {role: tuple(sorted(set(privs))) for role, privs in declaration.grants.items()}
    grants = {role: privs for role, privs in grants.items() if privs}
    trigger = "updated_at" in columns
    audit = None
    if isinstance(declaration.audit, Audit):
        audit = AuditState(declaration.audit.tenant_column, tuple(declaration.audit.quiet))
    distribution = declaration.distribution.value
    if isinstance(declaration, GlobalTable):
        return TableState(
            "global",
            True,
            True,
            global_policies(grants),
            grants,
            False,
            trigger,
            audit,
            distribution=distribution,
        )
    policies = {
        p.name: PolicyState(
            command=p.command,
            roles=tuple(sorted(p.roles)),
            permissive=p.permissive,
            using=normalise_sql(p.using),
            with_check=normalise_sql(p.with_check),
        )
        for p in declaration.policies
    }
    tenant_default = declaration.kind == "tenant" and TENANT_COLUMN in columns
    keys = tenant_keys(table)
    keyed = declaration.distribution is Distribution.by_tenant
    # A table sharded by tenant has the primary key (tenant_id, id): tenant keys refer to it.
    target = target_key(table) if declaration.kind == "tenant" and not keyed else None
    return TableState(
        declaration.kind,
        True,
        True,
        policies,
        grants,
        tenant_default,
        trigger,
        audit,
        keys,
        target,
        distribution,
        tenant_keyed=keyed,
    )


def target_key(table: type[Table]) -> str | None:
    """`<table>_tenant_id_id_key` unique (tenant_id, id), unless the class declares a
    unique constraint on exactly those columns itself."""
    for constraint in table._meta.constraints:
        if set(getattr(constraint, "columns", ()) or ()) == {TENANT_COLUMN, "id"}:
            return None
    return f"{table._meta.tablename}_tenant_id_id_key"


def global_policies(grants: dict[str, tuple[str, ...]]) -> dict[str, PolicyState]:
    """What a global table's grants allow, as policies: RLS is on, so without a policy a
    grant would let nothing through."""
    policies = {}
    for role, privileges in grants.items():
        for command in privileges:
            using = "true" if command != "insert" else None
            check = "true" if command in ("insert", "update") else None
            name = f"global_{command}" if role == "authenticated" else f"global_{command}_{role}"
            policies[name] = PolicyState(command, (role,), True, using, check)
    return policies


def key_stem(column: str) -> str:
    return column.removesuffix("_id")


def tenant_keys(table: type[Table]) -> dict[str, TenantKeyState]:
    """The composite keys of the table's TenantForeignKey columns, named by convention:
    `<table>_<stem>_same_tenant`, with the index `<table>_tenant_<stem>_idx`."""
    name = table._meta.tablename
    keys = {}
    for column in table._meta.foreign_key_columns:
        if isinstance(column, TenantForeignKey):
            db_column = column._meta.db_column_name
            referenced = referenced_table(column)._meta.tablename
            stem = key_stem(db_column)
            on_delete = column.tenant_on_delete.value.lower()
            index = f"{name}_tenant_{stem}_idx"
            keys[f"{name}_{stem}_same_tenant"] = TenantKeyState(
                db_column, referenced, on_delete, index
            )
    return keys


@dataclass(frozen=True)
class MigratedState:
    migration_id: str | None
    state: AppState


def migrated_state(app_config: AppConfig) -> MigratedState:
    """The state recorded by the app's newest RLS migration (empty when there is none)."""
    folder = app_config.resolved_migrations_folder_path
    if not Path(folder).is_dir():  # a new app: no migration yet
        return MigratedState(None, {})
    modules = BaseMigrationManager().get_migration_modules(folder)
    recorded = sorted(
        (migration_id, module)
        for migration_id, module in modules.items()
        if hasattr(module, "RLS_STATE")
    )
    if not recorded:
        return MigratedState(None, {})
    migration_id, module = recorded[-1]
    raw: dict[str, Any] = module.RLS_STATE
    return MigratedState(migration_id, {t: TableState.from_dict(s) for t, s in raw.items()})
