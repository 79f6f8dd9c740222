"""The RLS state of tables, from three sources that `piccolo rls` compares:

- declared:  the `rls` attributes of an app's table classes (refresh/tenancy/declarations.py);
- migrated:  the RLS_STATE recorded by the app's newest `piccolo rls new` migration;
- live:      the catalogs of the database (apps/rls/live.py).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import AppConfig

from refresh.tenancy.declarations import TENANT_COLUMN, GlobalTable, RowSecurity, declaration_of


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
class TableState:
    kind: str  # tenant | rls | global
    enabled: bool
    forced: bool
    policies: dict[str, PolicyState] = field(default_factory=dict)
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tenant_default: bool = False  # tenant_id DEFAULT auth.tenant_id()
    updated_at_trigger: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["policies"] = {name: asdict(p) for name, p in sorted(self.policies.items())}
        data["grants"] = {role: list(privs) for role, privs in sorted(self.grants.items())}
        for policy in data["policies"].values():
            policy["roles"] = list(policy["roles"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableState:
        return cls(
            kind=data["kind"],
            enabled=data["enabled"],
            forced=data["forced"],
            policies={n: PolicyState.from_dict(p) for n, p in data["policies"].items()},
            grants={r: tuple(p) for r, p in data["grants"].items()},
            tenant_default=data["tenant_default"],
            updated_at_trigger=data["updated_at_trigger"],
        )


AppState = dict[str, TableState]


class UndeclaredTable(Exception):
    def __init__(self, tables: list[str]) -> None:
        super().__init__(", ".join(tables))
        self.tables = tables


def declared_state(app_config: AppConfig) -> AppState:
    """The state the declarations ask for; raises UndeclaredTable for tables without one."""
    state: AppState = {}
    undeclared = []
    for table in app_config.table_classes:
        declaration = declaration_of(table)
        name = table._meta.tablename
        if declaration is None:
            undeclared.append(name)
            continue
        columns = {c._meta.db_column_name for c in table._meta.columns}
        state[name] = table_state(declaration, columns)
    if undeclared:
        raise UndeclaredTable(undeclared)
    return state


def table_state(declaration: RowSecurity | GlobalTable, columns: set[str]) -> TableState:
    grants = {role: tuple(sorted(set(privs))) for role, privs in declaration.grants.items()}
    grants = {role: privs for role, privs in grants.items() if privs}
    trigger = "updated_at" in columns
    if isinstance(declaration, GlobalTable):
        return TableState("global", False, False, {}, grants, False, trigger)
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
    return TableState(declaration.kind, True, True, policies, grants, tenant_default, trigger)


@dataclass(frozen=True)
class MigratedState:
    migration_id: str | None
    state: AppState


def migrated_state(app_config: AppConfig) -> MigratedState:
    """The state recorded by the app's newest RLS migration (empty when there is none)."""
    modules = BaseMigrationManager().get_migration_modules(
        app_config.resolved_migrations_folder_path
    )
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
