"""Foreign keys between tables placed where Citus cannot check them, found from the
declarations alone (refresh/tenancy/verify.py reports them as `key_across_placements`).

Citus checks a key on the node of the row that holds it, so the referenced row must be
there: in the same shard group (a key between tables sharded by tenant, on tenant_id and
the id), or on every node (a reference table). It refuses a key from a table sharded by
tenant to a local one and from a local or reference table to one sharded by tenant, and a
key from a reference table to a local one unless it neither cascades nor sets (Citus:
NO ACTION or RESTRICT only). Each works on one server and would stop the move to Citus, so
each is refused on every server.

The fix moves one of the two tables, the first move that makes no other key of either
table uncheckable; when none does, the tables are to be declared together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from piccolo.columns import ForeignKey
from piccolo.table import Table

from refresh.compat.piccolo import key_actions, referenced_table
from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.declarations import Distribution, GlobalTable, declaration_of

BY_TENANT, REFERENCE, LOCAL = Distribution.by_tenant, Distribution.reference, Distribution.local
REFUSED = frozenset({(BY_TENANT, LOCAL), (LOCAL, BY_TENANT), (REFERENCE, BY_TENANT)})
QUIET_ACTIONS = frozenset({"NO ACTION", "RESTRICT"})


def distribution_of(table: type[Table], moved: Mapping[type[Table], Distribution]) -> Distribution:
    declaration = declaration_of(table)
    assert declaration is not None
    return moved.get(table, declaration.distribution)


def uncheckable(
    table: type[Table], column: ForeignKey[Table], moved: Mapping[type[Table], Distribution]
) -> bool:
    target = referenced_table(column)
    source_declared, target_declared = declaration_of(table), declaration_of(target)
    if source_declared is None or target_declared is None:
        return False  # undeclared: reported as such
    here, there = distribution_of(table, moved), distribution_of(target, moved)
    if (here, there) in REFUSED:
        return True
    if (here, there) == (REFERENCE, LOCAL):
        return not set(key_actions(column)) <= QUIET_ACTIONS
    # between tables sharded by tenant, a key holds tenant_id (a TenantForeignKey) or
    # Citus cannot check it on one shard group (between two tenant tables a plain key is
    # plain_key_between_tenant_tables already)
    tenant_tables = {source_declared.kind, target_declared.kind} == {"tenant"}
    plain = not isinstance(column, TenantForeignKey) and not tenant_tables
    return (here, there) == (BY_TENANT, BY_TENANT) and plain


def keys_of(tables: Collection[type[Table]]) -> Iterator[tuple[type[Table], ForeignKey[Table]]]:
    for table in tables:
        for column in table._meta.foreign_key_columns:
            yield table, column


def can_be(table: type[Table], distribution: Distribution) -> bool:
    return not (isinstance(declaration_of(table), GlobalTable) and distribution is BY_TENANT)


def declare_text(table: type[Table], distribution: Distribution) -> str:
    declaration = declaration_of(table)
    call = "global_table" if isinstance(declaration, GlobalTable) else "row_security"
    if declaration is not None and declaration.kind == "tenant":
        call = "tenant_rls"
    return (
        f"declare {table.__name__} `rls = {call}(..., distribution=Distribution."
        f"{distribution.value})` (its other arguments as they are; Distribution from "
        "refresh.tenancy.declarations)"
    )


def placement_fix(
    table: type[Table], column: ForeignKey[Table], tables: Collection[type[Table]]
) -> str:
    target = referenced_table(column)
    here, there = distribution_of(table, {}), distribution_of(target, {})
    if (here, there) == (BY_TENANT, BY_TENANT):
        return (
            f"make {table.__name__}.{column._meta.name} a plain UUID column, no key: between "
            "tables sharded by tenant Citus checks only a key that holds tenant_id, a "
            "TenantForeignKey between two tenant tables"
        )
    everyone = {*tables, table, target}
    for moved, to in ((table, there), (target, here), (target, REFERENCE)):
        if to == distribution_of(moved, {}) or not can_be(moved, to):
            continue
        if not any(uncheckable(t, c, {moved: to}) for t, c in keys_of(everyone)):
            return declare_text(moved, to)
    return (
        f"declare {table.__name__} and {target.__name__} in one placement, with the tables "
        "keyed to either: no single move of one of them leaves every key checkable"
    )
