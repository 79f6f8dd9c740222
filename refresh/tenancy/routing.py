"""Router queries: every query of a tenant table names its tenant, in one place.

RLS is the guarantee (`tenant_id = auth.tenant_id()` in every policy), but the planner of
a sharded database cannot route on a function of the session: on Citus such a query runs
on every shard. So inside a request transaction every query of a tenant table also says
`tenant_id = <the verified claims' tenant>`, a constant Citus routes to one shard and
PostgreSQL uses as an index condition. Handlers write nothing for it; TenantTable's query
constructors (refresh/tenancy/tables.py) call these.

A tenant table joined through a foreign key gets its tenant in the join itself: `LEFT
JOIN project ON (task.project_id = project.id AND project.tenant_id = task.tenant_id)`,
which Citus reads as a join on the distribution column (and, with the constant on task,
PostgreSQL derives `project.tenant_id = <tenant>` for the joined side). The composite
tenant keys already guarantee a partner of the same tenant, so the condition changes no
result. It is not a WHERE condition (`project.tenant_id = <tenant> or ... is null`): as a
filter above a LEFT JOIN its selectivity is guessed, and a generic plan (every request's,
auth.begin_request) then read a large tenant's 200,000 rows to sort them for a page of 25
(bench/RESULTS.md, the admin's staff lists).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.query.methods import Delete, Update
from piccolo.query.methods.select import Select
from piccolo.table import Table

from refresh.compat.piccolo import (
    JoinRewritingSelect,
    current_filter,
    has_filter,
    join_with_condition,
    joined_keys,
    referenced_table,
)
from refresh.compat.piccolo_frozen import Param
from refresh.db.transaction import RequestTransaction
from refresh.tenancy.declarations import TENANT_COLUMN
from refresh.tenancy.deep_pages import DEEP_OFFSET, seek_deep_page, seekable


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


def tenant_joins(joins: list[str], columns: Iterable[Any]) -> list[str]:
    """Select._get_joins' strings, each join of two tenant tables through a foreign key
    with the tenant pinned in its ON clause (refresh/compat/piccolo.py renders it)."""
    aliases = [
        key.table_alias
        for key in joined_keys(columns)
        if is_tenant_table(referenced_table(key)) and is_tenant_table(key._meta.table)
    ]
    pinned = []
    for join in joins:
        for alias in aliases:
            condition = f'"{alias}"."{TENANT_COLUMN}" = {{left}}."{TENANT_COLUMN}"'
            changed = join_with_condition(join, alias, condition)
            if changed != join:
                join = changed
                break
        pinned.append(join)
    return pinned


class RoutedSelect(JoinRewritingSelect):
    """A Select of a tenant table whose joins of tenant tables name the tenant in their ON
    clause, and whose deep pages seek rather than skip (refresh/tenancy/deep_pages.py)."""

    async def run(
        self,
        node: str | None = None,
        in_pool: bool = True,
        use_callbacks: bool = True,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        key = seekable(self)
        query = self if key is None else await seek_deep_page(self, key, node)
        return await super(RoutedSelect, query).run(
            node=node, in_pool=in_pool, use_callbacks=use_callbacks, **kwargs
        )

    def runs_as_select(self) -> bool:
        """Whether run() adds nothing to Select's for this query: it seeks no deep page
        (refresh/compat/piccolo_frozen.py runs such a frozen query's SQL directly)."""
        return seekable(self) is None

    def why_not_frozen(self) -> str | None:
        """Why a frozen copy of this query would not run as this query does: its deep
        page's seek rewrites the query at run time, and a frozen query keeps its SQL."""
        if seekable(self) is None:
            return None
        return (
            f"its OFFSET of {DEEP_OFFSET:,} or more is sought at run time (a deep page);"
            " run it unfrozen, or page it with a cursor"
        )

    def rewrite_joins(self, joins: list[str], columns: Sequence[Any]) -> list[str]:
        return tenant_joins(joins, columns)


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
        self.added_filter: Any = None

    def routing_added_filter(self) -> Any:
        """Note that the filter the query has so far is routing's (the request's tenant, a
        tenant_id among an update's values), not its caller's: returns the query."""
        self.added_filter = current_filter(self.where_delegate)
        return self

    def _validate(self) -> None:
        """Piccolo refuses a write with no filter unless forced (`Task.delete()` without
        `.where`); routing's own tenant condition is no filter of the caller's, so the
        check sees the query without it, and a forgotten where in a request is refused
        rather than wiping the tenant's rows."""
        delegate = self.where_delegate
        if self.added_filter is None or current_filter(delegate) is not self.added_filter:
            super()._validate()  # type: ignore[misc]
            return
        self.where_delegate = type(delegate)()
        try:
            super()._validate()  # type: ignore[misc]
        finally:
            self.where_delegate = delegate

    async def run(self, node: str | None = None, in_pool: bool = True) -> Any:
        if not self.routed:
            self.routed = True
            tenant = await sole_tenant(self.table, self.where_delegate, node)
            if tenant is not None:
                self.where(tenant_column(self.table) == tenant)  # type: ignore[attr-defined]
        return await super().run(node=node, in_pool=in_pool)  # type: ignore[misc]


class RoutedUpdate(WriteRouting, Update):  # type: ignore[type-arg]
    __slots__ = ("added_filter", "routed")


class RoutedDelete(WriteRouting, Delete):
    __slots__ = ("added_filter", "routed")


async def sole_tenant(table: type[Table], where: Any, node: str | None) -> uuid.UUID | None:
    """The tenant of every row a write's filter matches, if there is exactly one (read on
    the write's own node: the write client's, for a table bound to the read client)."""
    if not has_filter(where):
        return None
    lookup = Select(table=table, columns_list=[tenant_column(table)]).distinct().limit(2)
    lookup.where_delegate = where
    rows = await lookup.run(node=node)
    return rows[0][TENANT_COLUMN] if len(rows) == 1 else None


#: The name of the request's tenant in a query built for every tenant (tenant_as_param).
TENANT_PARAM = "request_tenant"
_TENANT_AS_PARAM: ContextVar[bool] = ContextVar("refresh_tenant_as_param", default=False)


@contextlib.contextmanager
def tenant_as_param() -> Iterator[None]:
    """Queries built inside the block, in a request, name its tenant as Param(TENANT_PARAM)
    rather than as its value: frozen, they serve every tenant (refresh/tenancy/frozen.py)."""
    token = _TENANT_AS_PARAM.set(True)
    try:
        yield
    finally:
        _TENANT_AS_PARAM.reset(token)


def tenant_where(table: type[Table]) -> Combinable | None:
    tenant = request_tenant(table)
    if tenant is None:
        return None
    return tenant_column(table) == (Param(TENANT_PARAM) if _TENANT_AS_PARAM.get() else tenant)


def pop_tenant(table: type[Table], values: dict[Any, Any]) -> Any:
    """Take tenant_id out of an update's values (a row never changes tenant; Citus
    refuses to change a distribution column): the caller turns it into a filter."""
    for key in list(values):
        name = key._meta.db_column_name if isinstance(key, Column) else key
        if name == TENANT_COLUMN:
            value = values.pop(key)
            return getattr(value, "id", value)  # a Tenant row or its id
    return None
