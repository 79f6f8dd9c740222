"""Mistakes in how a table that holds tenants' rows, or a declared policy, is written.

Found from the class alone, as every mistake of refresh/tenancy/verify.py (which calls
these), so `piccolo rls new` refuses to generate them and the app refuses to start:

- a table with a tenant_id column declared global with grants to the request roles:
  every tenant would read (and write) every tenant's rows;
- a table with a tenant_id column under custom policies (row_security), one of which
  admits a row without `tenant_id = auth.tenant_id()`: that policy alone lets a request
  reach another tenant's rows (permissive policies are ORed);
- a table of tenants' rows under RLS keyed other than by one UUID `id`: a serial counts
  every tenant's rows (DESIGN.md: UUIDs, never serials), a natural key is unique across
  tenants, and the composite keys and shards are built on (tenant_id, id);
- a table of tenants' rows under RLS with a value unique across tenants (a column's
  `unique=True`, a `Unique([...])` without tenant_id): tenant B's insert of tenant A's
  value fails, and the error tells B that the value exists;
- a declared policy with a subquery: Citus refuses it on distributed tables, and a
  subquery per row keeps the planner from using an index (`piccolo rls check` reports
  the same in the database as policy_subquery, whose fix would drop a declared policy).

Conditions are read from their SQL tokens (refresh/tenancy/policy_sql.py).
"""

from __future__ import annotations

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
from refresh.tenancy.policy_sql import has_subquery, isolates_tenant

Found = tuple[str, str]  # (message, fix)


def conditions(policy: Policy) -> list[str]:
    return [e for e in (policy.using, policy.with_check) if e is not None]


def holds_tenant_rows(table: type[Table]) -> bool:
    return any(c._meta.db_column_name == TENANT_COLUMN for c in table._meta.columns)


def shared_tenant_rows(table: type[Table], declaration: Declaration) -> Found | None:
    """A global table of tenants' rows granting request roles access."""
    if not (isinstance(declaration, GlobalTable) and declaration.grants):
        return None
    cls = table.__name__
    granted = ", ".join(sorted(declaration.grants))
    grants = {role: tuple(privileges) for role, privileges in declaration.grants.items()}
    return (
        f"table class {cls} holds tenants' rows ({TENANT_COLUMN}), but it is a global "
        f"table that grants {granted} access: every tenant would reach every tenant's rows",
        # the same grants, isolated: the fix must not widen what requests may do
        f"make it a tenant table with the same grants: `class {cls}(TenantTable, Table)` "
        f"(from refresh.tenancy.tables) with `rls = tenant_rls(grants={grants!r})` (from "
        "refresh.tenancy.declarations); or, if only the admin and system code read it, "
        "drop the grants: `rls = global_table(reason)`",
    )


def policies_without_isolation(declaration: Declaration) -> list[Policy]:
    """The custom policies of a table of tenants' rows that do not isolate tenants."""
    if not isinstance(declaration, RowSecurity) or declaration.kind == "tenant":
        return []  # tenant_rls() ANDs the isolation rule into each of its policies
    return [
        policy
        for policy in declaration.policies
        if not all(isolates_tenant(condition) for condition in conditions(policy))
    ]


def not_isolated_message(table: type[Table], policy: Policy) -> Found:
    cls = table.__name__
    fixed = [
        f'{clause}="{condition if isolates_tenant(condition) else _and_rule(condition)}"'
        for clause, condition in (("using", policy.using), ("with_check", policy.with_check))
        if condition is not None
    ]
    return (
        f"policy {policy.name} of {cls} admits rows without `{TENANT_CHECK}`, but {cls} "
        f"holds tenants' rows ({TENANT_COLUMN}): policies are ORed, so this one alone "
        "would let a request reach another tenant's rows",
        f"declare it with the rule ANDed in: `Policy({policy.name!r}, "
        f"{policy.command!r}, {', '.join(fixed)})`",
    )


def _and_rule(condition: str) -> str:
    return f"{TENANT_CHECK} and ({condition})"


def key_problem(table: type[Table]) -> Found | None:
    """A table of tenants' rows under RLS not keyed by one UUID column `id`."""
    cls = table.__name__
    keys = [c for c in table._meta.columns if c._meta.primary_key]
    if len(keys) == 1 and isinstance(keys[0], UUID) and keys[0]._meta.db_column_name == "id":
        return None
    described = ", ".join(f"{type(c).__name__} {c._meta.name}" for c in keys)
    return (
        f"table class {cls} holds tenants' rows ({TENANT_COLUMN}) but is keyed by "
        f"{described}: a serial's ids count every tenant's rows, a natural key is unique "
        "across tenants (another tenant's insert of the same key fails, and so learns it "
        "exists), and the tenant keys and shards are built on (tenant_id, id)",
        f"make its only primary key `id = UUID(primary_key=True, default=UUID4())` on {cls} "
        "(UUID from piccolo.columns, UUID4 from piccolo.columns.defaults.uuid), with no "
        "primary_key=True on any other column",
    )


def unique_across_tenants(table: type[Table]) -> list[Found]:
    """Each value of a table of tenants' rows that is unique across every tenant."""
    cls, name = table.__name__, table._meta.tablename
    found = []
    for column in table._meta.columns:
        db_name = column._meta.db_column_name
        if column._meta.unique and not column._meta.primary_key and db_name != TENANT_COLUMN:
            # unique on tenant_id alone is one row per tenant: it names its tenant already
            attribute = column._meta.name
            found.append(
                (
                    f"{cls}.{attribute} is unique=True: one tenant's value would block "
                    "another's, and the error would tell that tenant the value exists",
                    f"drop `unique=True` from {cls}.{attribute} and declare "
                    f'`{name}_tenant_{db_name}_unique = Unique(["{TENANT_COLUMN}", '
                    f'"{db_name}"])` on {cls} (from piccolo.constraints)',
                )
            )
    for constraint in table._meta.constraints:
        if not isinstance(constraint, Unique):
            continue
        names = constraint.get_column_names()  # columns given as names or as Column objects
        if TENANT_COLUMN not in names:
            constraint_name = constraint._meta.name
            columns = ", ".join(f'"{c}"' for c in [TENANT_COLUMN, *names])
            found.append(
                (
                    f"{cls}.{constraint_name} is unique across tenants: one tenant's value "
                    "would block another's, and the error would tell that tenant the value "
                    "exists",
                    f"declare it `{constraint_name} = Unique([{columns}])`",
                )
            )
    return found


def policies_with_subquery(declaration: Declaration) -> list[Policy]:
    if not isinstance(declaration, RowSecurity):
        return []
    return [p for p in declaration.policies if any(map(has_subquery, conditions(p)))]


def subquery_message(table: type[Table], policy: Policy) -> Found:
    return (
        f"policy {policy.name} of {table.__name__} contains a subquery: Citus refuses it "
        "on distributed tables, and it is evaluated per row, where the planner cannot use "
        "an index through it",
        "write the rule without a subquery: compare the row's own columns with the auth "
        "functions (auth.tenant_id(), auth.user_id(), auth.tenant_role()); a row that "
        "must belong to another row of its tenant says so with a TenantForeignKey",
    )
