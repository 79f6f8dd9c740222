"""What a table is, declared in Python next to its columns, in an `rls` attribute.

    class Project(TenantTable, Table):          # tenant_rls() by default: isolated, audited
        ...

    class Member(TenantTable, Table):
        rls = tenant_rls(                        # tenants isolated, and only admins write
            write_rule="auth.tenant_role() = 'admin'"
        )

    class Unit(ReadClientTable, Timestamps, Table):
        rls = global_table("units of measure, the same for every tenant",
                           grants={AUTHENTICATED: ("select",)})

From the declaration, `piccolo rls new APP` generates everything the database needs: RLS
enabled and forced, the policies, the grants, the tenant default, the updated_at trigger,
the audit trigger, and (from TenantForeignKey columns) the composite tenant foreign keys
with their indexes; `piccolo rls check` compares declarations, migrations and the live
database for all of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

AUTHENTICATED = "authenticated"
ANONYMOUS = "anonymous"
REQUEST_ROLES = (AUTHENTICATED, ANONYMOUS)
COMMANDS = ("select", "insert", "update", "delete")
PRIVILEGES = ("select", "insert", "update", "delete")

#: The isolation rule of every tenant table (DESIGN.md "Policies"): a STABLE sql function
#: the planner inlines, compared directly, never wrapped in a subquery.
TENANT_CHECK = "tenant_id = auth.tenant_id()"
TENANT_COLUMN = "tenant_id"

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Policy:
    """One PostgreSQL policy: CREATE POLICY name ON table AS ... FOR command TO roles ..."""

    name: str
    command: str  # select | insert | update | delete | all
    using: str | None = None
    with_check: str | None = None
    roles: tuple[str, ...] = (AUTHENTICATED,)
    permissive: bool = True

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"policy name {self.name!r}: use lowercase letters, digits, _")
        if self.command not in (*COMMANDS, "all"):
            raise ValueError(f"policy {self.name}: command must be one of {COMMANDS} or all")
        if self.command in ("select", "delete") and self.with_check is not None:
            raise ValueError(f"policy {self.name}: {self.command} takes USING only")
        if self.command == "insert" and self.using is not None:
            raise ValueError(f"policy {self.name}: insert takes WITH CHECK only")
        if self.using is None and self.with_check is None:
            raise ValueError(f"policy {self.name}: give USING, WITH CHECK or both")
        unknown = set(self.roles) - set(REQUEST_ROLES)
        if unknown or not self.roles:
            raise ValueError(f"policy {self.name}: roles must be among {REQUEST_ROLES}")


def crud_policy(
    name: str,
    *,
    read: str | None = None,
    modify: str | None = None,
    roles: tuple[str, ...] = (AUTHENTICATED,),
    permissive: bool = True,
) -> tuple[Policy, ...]:
    """Who may read, who may modify (like Drizzle's crudPolicy), as one policy per command.

    `read` becomes a SELECT policy; `modify` INSERT (WITH CHECK), UPDATE (USING and
    WITH CHECK) and DELETE policies.
    """
    policies: list[Policy] = []
    if read is not None:
        policies.append(
            Policy(f"{name}_select", "select", using=read, roles=roles, permissive=permissive)
        )
    if modify is not None:
        policies += [
            Policy(
                f"{name}_insert", "insert", with_check=modify, roles=roles, permissive=permissive
            ),
            Policy(
                f"{name}_update",
                "update",
                using=modify,
                with_check=modify,
                roles=roles,
                permissive=permissive,
            ),
            Policy(f"{name}_delete", "delete", using=modify, roles=roles, permissive=permissive),
        ]
    return tuple(policies)


class Distribution(StrEnum):
    """Where a table's rows live on a distributed engine (Citus); on one PostgreSQL server
    it changes nothing but the shape of the keys (DESIGN.md "Scale-out")."""

    #: sharded by tenant_id, colocated with every other tenant table: a tenant's rows are
    #: on one node, and its queries go to one shard
    by_tenant = "by_tenant"
    #: a copy on every node: shared rows that tenant tables refer to (units, the tenants)
    reference = "reference"
    #: on the coordinator only: read by the admin's gate and the CLI, never by requests
    local = "local"


@dataclass(frozen=True)
class Audit:
    """Every insert, update and delete of the table is recorded in the audit log, with the
    row's tenant from `tenant_column` ("" for none); an update that changes only `quiet`
    columns (bookkeeping such as updated_at) is not recorded."""

    tenant_column: str = TENANT_COLUMN
    quiet: tuple[str, ...] = ("updated_at",)


@dataclass(frozen=True)
class NotAudited:
    """The table opts out of the audit log, with the reason a reviewer can judge."""

    reason: str

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < 10:
            raise ValueError("not_audited needs a reason a reviewer can judge")


def audited(tenant_column: str = TENANT_COLUMN, quiet: tuple[str, ...] = ("updated_at",)) -> Audit:
    return Audit(tenant_column, tuple(quiet))


def not_audited(reason: str) -> NotAudited:
    return NotAudited(reason)


@dataclass(frozen=True)
class RowSecurity:
    """A table under RLS: enabled and forced, with these policies and grants."""

    kind: str  # "tenant" (isolated by tenant_id) or "rls" (custom policies)
    policies: tuple[Policy, ...]
    grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reason: str = ""
    audit: Audit | NotAudited | None = None
    distribution: Distribution = Distribution.by_tenant

    def __post_init__(self) -> None:
        names = [p.name for p in self.policies]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate policy names in {names}")
        _check_grants(self.grants)
        if self.kind == "tenant" and self.audit is None:
            raise ValueError("a tenant table is audited, or says why not: not_audited(reason)")


@dataclass(frozen=True)
class GlobalTable:
    """A table deliberately shared by all tenants, with the reason why. RLS is enabled and
    forced on it too: request roles see its rows only through what `grants` gives them
    (a permissive `true` policy per granted command), and nothing else."""

    reason: str
    grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = "global"
    audit: Audit | NotAudited | None = None
    distribution: Distribution = Distribution.reference

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < 10:
            raise ValueError("global_table needs a reason a reviewer can judge")
        _check_grants(self.grants)
        if self.distribution is Distribution.by_tenant:
            raise ValueError("a global table is not sharded by tenant: reference or local")


Declaration = RowSecurity | GlobalTable

TENANT_GRANTS: Mapping[str, tuple[str, ...]] = {AUTHENTICATED: PRIVILEGES}


def tenant_rls(
    *,
    read_rule: str | None = None,
    write_rule: str | None = None,
    grants: Mapping[str, tuple[str, ...]] = TENANT_GRANTS,
    audit: Audit | NotAudited | None = None,
    distribution: Distribution = Distribution.by_tenant,
) -> RowSecurity:
    """Tenant isolation for every command: one permissive policy per command whose rule is
    `tenant_id = auth.tenant_id()`, ANDed with `read_rule` (select) or `write_rule`
    (insert, update, delete) when given. `distribution`: sharded by tenant unless said.

    Extra rules are folded into the isolation policies, never added as RESTRICTIVE
    policies: Citus re-creates restrictive policies as permissive on its shards, which
    would turn a narrowing rule into a widening one (DESIGN.md "Policies").
    """
    read = _and(TENANT_CHECK, read_rule)
    write = _and(TENANT_CHECK, write_rule)
    policies = (
        Policy("tenant_isolation_select", "select", using=read),
        Policy("tenant_isolation_insert", "insert", with_check=write),
        Policy("tenant_isolation_update", "update", using=write, with_check=write),
        Policy("tenant_isolation_delete", "delete", using=write),
    )
    return RowSecurity(
        kind="tenant",
        policies=policies,
        grants=grants,
        audit=audit or Audit(),
        distribution=distribution,
    )


def row_security(
    *policies: Policy | tuple[Policy, ...],
    grants: Mapping[str, tuple[str, ...]],
    distribution: Distribution,
    reason: str = "",
    audit: Audit | NotAudited | None = None,
) -> RowSecurity:
    """RLS with custom policies only; `distribution` says where its rows live (a table
    keyed by tenant_id is sharded by it, the tenants themselves are a reference table)."""
    flat: list[Policy] = []
    for item in policies:
        flat.extend(item if isinstance(item, tuple) else (item,))
    return RowSecurity(
        kind="rls",
        policies=tuple(flat),
        grants=grants,
        reason=reason,
        audit=audit,
        distribution=distribution,
    )


def global_table(
    reason: str,
    grants: Mapping[str, tuple[str, ...]] | None = None,
    audit: Audit | NotAudited | None = None,
    distribution: Distribution = Distribution.reference,
) -> GlobalTable:
    """A table shared by every tenant. `distribution`: a reference table by default (a
    copy on every node, so tenant tables can refer to it and join it locally), or local
    (the coordinator only) for tables read by system code only."""
    return GlobalTable(reason=reason, grants=grants or {}, audit=audit, distribution=distribution)


def declaration_of(table: Any) -> Declaration | None:
    value = getattr(table, "rls", None)
    return value if isinstance(value, (RowSecurity, GlobalTable)) else None


def _and(rule: str, extra: str | None) -> str:
    return rule if extra is None else f"{rule} and ({extra})"


def _check_grants(grants: Mapping[str, tuple[str, ...]]) -> None:
    for role, privileges in grants.items():
        if role not in REQUEST_ROLES:
            raise ValueError(f"grants: role must be among {REQUEST_ROLES}, not {role!r}")
        bad = set(privileges) - set(PRIVILEGES)
        if bad:
            raise ValueError(f"grants: unknown privileges {sorted(bad)}")
