"""Router queries: every query of a tenant table names its tenant, in one place.

RLS is the guarantee (`tenant_id = auth.tenant_id()` in every policy), but the planner of
a sharded database cannot route on a function of the session: on Citus such a query runs
on every shard. So inside a request transaction every query of a tenant table also says
`tenant_id = <the verified claims' tenant>`, a constant Citus routes to one shard and
PostgreSQL uses as an index condition. Handlers write nothing for it; TenantTable's query
constructors (refresh/tenancy/tables.py) call these.

Tables joined through a foreign key get `joined.tenant_id = <tenant>` too (or, outside a
request, `= <the row's tenant_id>`, which Citus reads as a join on the distribution
column), with `or joined.tenant_id is null` to keep a LEFT JOIN's rows without a
partner: the composite tenant keys already guarantee a partner of the same tenant, so
the condition changes no result, it only tells the planner so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.query.methods import Delete, Update
from piccolo.query.methods.select import Select
from piccolo.table import Table

from refresh.compat.piccolo import has_filter, joined_keys, selected_columns
from refresh.db.transaction import RequestTransaction
from refresh.tenancy.declarations import TENANT_COLUMN


def request_tenant(table: type[Table]) -> uuid.UUID | None:
    """The tenant of the request transaction the table's queries run in, if any."""
    transaction = table._meta.db.current_transaction.get()
    if isinstance(transaction, RequestTransaction):
        return transaction.claims.tenant_id
    return None


def is_tenant_table(table: type[Table]) -> bool:
    return any(c._meta.db_column_name == TENANT_COLUMN for c in table._meta.columns)


def tenant_column(table: type[Table]) -> Column:
    return table._meta.get_column_by_name(TENANT_COLUMN)


def join_conditions(
    table: type[Table], columns: Iterable[Any], tenant: uuid.UUID | None
) -> list[Combinable]:
    """For each tenant table a query joins through a foreign key: its tenant_id pinned."""
    conditions: dict[str, Combinable] = {}
    for key in joined_keys(columns):
        target = key._foreign_key_meta.resolved_references
        if not is_tenant_table(target) or key.table_alias in conditions:
            continue
        joined: Column = getattr(key, TENANT_COLUMN)
        same = joined == (tenant if tenant is not None else tenant_column(table))
        conditions[key.table_alias] = same | joined.is_null()
    return list(conditions.values())


class RoutedSelect(Select):  # type: ignore[type-arg]
    """A Select of a tenant table whose joins are pinned to the tenant when it renders:
    the joins are known only then (columns, filters and ordering can each add one).
    Overrides Select.default_querystrings, the documented way a Piccolo query renders;
    tests/refresh/compat/test_piccolo.py fails if the join syntax it relies on changes."""

    __slots__ = ("routed", "router_tenant")

    def __init__(self, *args: Any, router_tenant: uuid.UUID | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.router_tenant = router_tenant
        self.routed = False

    @property
    def default_querystrings(self) -> Any:
        if not self.routed:
            self.routed = True
            conditions = join_conditions(self.table, selected_columns(self), self.router_tenant)
            if conditions:
                self.where(*conditions)
        return super().default_querystrings


class WriteRouting:
    """Update and Delete outside a request (an operator in the admin, a CLI command): a
    write that names no tenant, typically by id, looks up the one tenant of the rows it
    matches first and adds it as a constant. On Citus a write to several shards cannot run
    the audit trigger (its insert would be a distributed query from a shard); a write by
    id is then a router query like a request's. One more read, on writes outside
    requests only; a write across several tenants is left as it is."""

    table: type[Table]
    where_delegate: Any

    def __init__(self, *args: Any, routed: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routed = routed

    async def run(self, node: str | None = None, in_pool: bool = True) -> Any:
        if not self.routed:
            self.routed = True
            tenant = await sole_tenant(self.table, self.where_delegate, node)
            if tenant is not None:
                self.where(tenant_column(self.table) == tenant)  # type: ignore[attr-defined]
        return await super().run(node=node, in_pool=in_pool)  # type: ignore[misc]


class RoutedUpdate(WriteRouting, Update):  # type: ignore[type-arg]
    __slots__ = ("routed",)


class RoutedDelete(WriteRouting, Delete):
    __slots__ = ("routed",)


async def sole_tenant(table: type[Table], where: Any, node: str | None) -> uuid.UUID | None:
    """The tenant of every row a write's filter matches, if there is exactly one (read on
    the write's own node: the write client's, for a table bound to the read client)."""
    if not has_filter(where):
        return None
    lookup = Select(table=table, columns_list=[tenant_column(table)]).distinct().limit(2)
    lookup.where_delegate = where
    rows = await lookup.run(node=node)
    return rows[0][TENANT_COLUMN] if len(rows) == 1 else None


def tenant_where(table: type[Table]) -> Combinable | None:
    tenant = request_tenant(table)
    return None if tenant is None else tenant_column(table) == tenant


def pop_tenant(table: type[Table], values: dict[Any, Any]) -> Any:
    """Take tenant_id out of an update's values (a row never changes tenant; Citus
    refuses to change a distribution column): the caller turns it into a filter."""
    for key in list(values):
        name = key._meta.db_column_name if isinstance(key, Column) else key
        if name == TENANT_COLUMN:
            value = values.pop(key)
            return getattr(value, "id", value)  # a Tenant row or its id
    return None
