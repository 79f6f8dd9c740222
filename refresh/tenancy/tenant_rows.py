"""Mistakes in how a table that holds tenants' rows, or a declared policy, is written.

Found from the class alone, as every mistake of refresh/tenancy/verify.py (which calls
these), so `piccolo rls new` refuses to generate them and the app refuses to start:

- a table with a tenant_id column declared global with grants to the request roles:
  every tenant would read (and write) every tenant's rows;
- a table with a tenant_id column under custom policies (row_security), one of which
  does not carry the isolation rule `tenant_id = auth.tenant_id()`: that policy alone
  lets a request reach another tenant's rows (permissive policies are ORed);
- a table with a tenant_id column keyed by a serial: its ids count every tenant's rows,
  and requests cannot use its sequence (DESIGN.md: UUIDs, never serials);
- a table with a tenant_id column with a value unique across tenants (a column's
  `unique=True`, a `Unique([...])` without tenant_id): tenant B's insert of tenant A's
  value fails, and the error tells B that the value exists;
- a declared policy with a subquery: Citus refuses it on distributed tables, and a
  subquery per row keeps the planner from using an index (`piccolo rls check` reports
  the same in the database as policy_subquery, whose fix would drop a declared policy).
"""

from __future__ import annotations

import re

from piccolo.columns import UUID
from piccolo.constraints import Unique
from piccolo.table import Table

from refresh.tenancy.declarations import (
    TENANT_CHECK,
    TENANT_COLUMN,
    Declaration,
    GlobalTable,
    Policy,
    RowSecurity,
)

_SUBQUERY = re.compile(r"\bselect\b", re.IGNORECASE)


def _normalised(expression: str) -> str:
    return " ".join(expression.lower().split())


def conditions(policy: Policy) -> list[str]:
    return [e for e in (policy.using, policy.with_check) if e is not None]


def holds_tenant_rows(table: type[Table]) -> bool:
    return any(c._meta.db_column_name == TENANT_COLUMN for c in table._meta.columns)


def shared_tenant_rows(table: type[Table], declaration: Declaration) -> tuple[str, str] | None:
    """(message, fix) for a global table of tenants' rows granting request roles access."""
    if not (isinstance(declaration, GlobalTable) and declaration.grants):
        return None
    cls = table.__name__
    granted = ", ".join(sorted(declaration.grants))
    return (
        f"table class {cls} holds tenants' rows ({TENANT_COLUMN}), but it is a global "
        f"table that grants {granted} access: every tenant would reach every tenant's rows",
        f"make it a tenant table: `class {cls}(TenantTable, Table)` (from "
        "refresh.tenancy.tables) with no `rls = global_table(...)`, or, if only the admin "
        "and system code read it, drop the grants: `rls = global_table(reason)`",
    )


def policies_without_isolation(declaration: Declaration) -> list[Policy]:
    """The custom policies of a table of tenants' rows that do not isolate tenants."""
    if not isinstance(declaration, RowSecurity) or declaration.kind == "tenant":
        return []  # tenant_rls() ANDs the isolation rule into each of its policies
    rule = _normalised(TENANT_CHECK)
    return [
        policy
        for policy in declaration.policies
        if not all(rule in _normalised(condition) for condition in conditions(policy))
    ]


def not_isolated_message(table: type[Table], policy: Policy) -> tuple[str, str]:
    cls = table.__name__
    return (
        f"policy {policy.name} of {cls} does not require `{TENANT_CHECK}`, but {cls} holds "
        f"tenants' rows ({TENANT_COLUMN}): policies are ORed, so this one alone would let "
        "a request reach another tenant's rows",
        "declare the table with `rls = tenant_rls(read_rule=..., write_rule=...)` (from "
        "refresh.tenancy.declarations), its policies' conditions as the rules: the "
        "isolation rule is then part of every policy",
    )


def serial_key(table: type[Table]) -> tuple[str, str] | None:
    """(message, fix) for a table of tenants' rows whose primary key is not a UUID."""
    key = table._meta.primary_key
    if isinstance(key, UUID):
        return None
    cls, name = table.__name__, key._meta.name
    return (
        f"table class {cls} holds tenants' rows ({TENANT_COLUMN}) but is keyed by "
        f"{type(key).__name__} {name}: its ids count every tenant's rows, so a tenant "
        "could tell how many rows the others make (and requests cannot use its sequence)",
        f"declare `{name} = UUID(primary_key=True, default=UUID4())` on {cls} (UUID from "
        "piccolo.columns, UUID4 from piccolo.columns.defaults.uuid)",
    )


def policies_with_subquery(declaration: Declaration) -> list[Policy]:
    if not isinstance(declaration, RowSecurity):
        return []
    return [p for p in declaration.policies if any(map(_SUBQUERY.search, conditions(p)))]


def subquery_message(table: type[Table], policy: Policy) -> tuple[str, str]:
    return (
        f"policy {policy.name} of {table.__name__} contains a subquery: Citus refuses it "
        "on distributed tables, and it is evaluated per row, where the planner cannot use "
        "an index through it",
        "write the rule without a subquery: compare the row's own columns with the auth "
        "functions (auth.tenant_id(), auth.user_id(), auth.tenant_role()); a row that "
        "must belong to another row of its tenant says so with a TenantForeignKey",
    )


def unique_across_tenants(table: type[Table]) -> list[tuple[str, str]]:
    """(message, fix) per value of a table of tenants' rows unique across every tenant."""
    cls, name = table.__name__, table._meta.tablename
    found = []
    for column in table._meta.columns:
        if column._meta.unique and not column._meta.primary_key:
            attribute = column._meta.name
            found.append(
                (
                    f"{cls}.{attribute} is unique=True: one tenant's value would block "
                    "another's, and the error would tell that tenant the value exists",
                    f"drop `unique=True` from {cls}.{attribute} and declare "
                    f'`{name}_tenant_{attribute}_unique = Unique(["{TENANT_COLUMN}", '
                    f'"{attribute}"])` on {cls} (from piccolo.constraints)',
                )
            )
    for constraint in table._meta.constraints:
        if isinstance(constraint, Unique) and TENANT_COLUMN not in constraint.columns:
            constraint_name = constraint._meta.name
            columns = ", ".join(f'"{c}"' for c in [TENANT_COLUMN, *constraint.columns])
            found.append(
                (
                    f"{cls}.{constraint_name} is unique across tenants: one tenant's value "
                    "would block another's, and the error would tell that tenant the value "
                    "exists",
                    f"declare it `{constraint_name} = Unique([{columns}])`",
                )
            )
    return found
