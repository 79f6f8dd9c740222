"""The query constructors of a table sharded by tenant, each naming its tenant
(refresh/tenancy/routing.py says why). TenantTable and the audit log mix this in, listed
before Table, so Piccolo's instance methods (save, remove, refresh) and piccolo-api's CRUD,
which build their queries through these classmethods, are routed too. Raw SQL given to
their where() is parenthesised (refresh/compat/piccolo.py GroupedWhereDelegate): a raw
`x OR y` would otherwise escape the tenant condition added before it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.columns import Column, ForeignKey
from piccolo.query.methods import Count, Delete, Exists, Objects, Select, Update
from piccolo.querystring import Selectable
from piccolo.table import Table

from refresh.compat.piccolo import group_raw_filters
from refresh.tenancy.routing import (
    RoutedDelete,
    RoutedSelect,
    RoutedUpdate,
    pop_tenant,
    tenant_column,
    tenant_where,
)


class TenantRouted:
    """Mix in before Table: `class AuditLog(TenantRouted, ReadClientTable, Table)`."""

    @classmethod
    def select(cls, *columns: Selectable | str, exclude_secrets: bool = False) -> Select[Any]:
        table: type[Table] = cls  # type: ignore[assignment]
        query = group_raw_filters(
            RoutedSelect(table=table, columns_list=columns, exclude_secrets=exclude_secrets)
        )
        where = tenant_where(table)
        return query if where is None else query.where(where)

    @classmethod
    def objects(cls, *prefetch: ForeignKey[Any] | list[ForeignKey[Any]]) -> Objects[Any]:
        query = group_raw_filters(super().objects(*prefetch))  # type: ignore[misc]
        where = tenant_where(cls)  # type: ignore[arg-type]
        return query if where is None else query.where(where)

    @classmethod
    def count(cls, column: Column | None = None, distinct: Sequence[Column] | None = None) -> Count:
        query = group_raw_filters(super().count(column, distinct))  # type: ignore[misc]
        where = tenant_where(cls)  # type: ignore[arg-type]
        return query if where is None else query.where(where)

    @classmethod
    def exists(cls) -> Exists[Any]:
        query = group_raw_filters(super().exists())  # type: ignore[misc]
        where = tenant_where(cls)  # type: ignore[arg-type]
        return query if where is None else query.where(where)

    @classmethod
    def delete(cls, force: bool = False) -> Delete:
        table: type[Table] = cls  # type: ignore[assignment]
        where = tenant_where(table)
        query = group_raw_filters(RoutedDelete(table=table, force=force, routed=where is not None))
        if where is not None:
            query.where(where)
        return query.routing_added_filter()

    @classmethod
    def update(
        cls,
        values: dict[Column | str, Any] | None = None,
        force: bool = False,
        use_auto_update: bool = True,
        **kwargs: Any,
    ) -> Update[Any]:
        """As Table.update, except that a row never changes tenant: a tenant_id among the
        values becomes a filter (the row must already be of that tenant)."""
        table: type[Table] = cls  # type: ignore[assignment]
        values = dict(values or {}, **kwargs)
        if use_auto_update and table._meta.auto_update_columns:
            values.update(table._meta.get_auto_update_values())  # type: ignore[arg-type]
        moved_to = pop_tenant(table, values)
        where = tenant_where(table)
        routed = where is not None or moved_to is not None
        query = group_raw_filters(RoutedUpdate(table=table, force=force, routed=routed))
        query.values(values)
        if where is not None:
            query.where(where)
        if moved_to is not None:
            query.where(tenant_column(table) == moved_to)
        return query.routing_added_filter()
