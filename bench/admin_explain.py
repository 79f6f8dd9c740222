"""The SQL behind an admin API request, and its plan, as the staff or operator login runs it.

The statements are built by piccolo-api's own code (its parsing of the parameters and its
filters, reached through refresh/compat/piccolo_api_queries.py, then the same select,
readable columns, order, LIMIT and OFFSET as
`get_all`, `get_count`, `get_ids` and `get_single` in piccolo_api/crud/endpoints.py,
1.11), rendered with their values inline. So EXPLAIN shows a custom plan: the app sends
the values as bind parameters, and after five executions PostgreSQL may settle on a
generic plan instead (pg_stat_statements tells whether it did).

Staff plans run as the request does: a READ ONLY transaction on the authenticator,
switched by `auth.begin_request` to the request role with the staff claims (RLS on).
Operator plans run in a transaction of the write client (BYPASSRLS), as the gate does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import asyncpg

from refresh.compat.piccolo_api_queries import (
    related_readable,
    request_params,
    with_request_filters,
)
from refresh.db.transaction import BEGIN_REQUEST


@dataclass(frozen=True)
class AdminQuery:
    """One request of the admin UI: which endpoint of which table, with which parameters."""

    kind: str  # list | count | ids | detail
    table: str  # task | project | member
    params: tuple[tuple[str, str], ...] = ()
    row_id: str = ""  # detail only

    def path(self) -> str:
        base = f"/admin/api/tables/{self.table}/"
        query = f"?{urlencode(self.params)}" if self.params else ""
        if self.kind == "list":
            return base + query
        if self.kind == "detail":
            return f"{base}{self.row_id}/{query}"
        return f"{base}{self.kind}/{query}"


def _crud(table_name: str) -> Any:
    """A PiccoloCRUD like the admin's (importing apps.admin.site applies its patches)."""
    from piccolo_api.crud.endpoints import PiccoloCRUD

    from apps.admin.site import PAGE_SIZE
    from apps.projects.tables import Project
    from apps.tasks.tables import Task
    from apps.tenants.tables import Member

    tables: dict[str, Any] = {"task": Task, "project": Project, "member": Member}
    return PiccoloCRUD(tables[table_name], read_only=True, page_size=PAGE_SIZE)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def statement(query: AdminQuery) -> str:
    """The SQL piccolo-api runs for this request, values inline."""
    from piccolo.columns import ForeignKey

    crud = _crud(query.table)
    table = crud.table
    split = request_params(crud, dict(query.params))
    if query.kind == "count":
        return str(with_request_filters(crud, table.count(), split))
    if query.kind == "ids":
        params = dict(query.params)
        inner = table.select().columns(table._meta.primary_key._meta.name, table.get_readable())
        return (
            f"SELECT * FROM ({inner}) as subquery WHERE subquery.readable ILIKE "
            f"{_literal('%' + params['search'] + '%')} "
            f"LIMIT {params.get('limit', 'ALL')} OFFSET {params.get('offset', 0)}"
        )
    if query.kind == "detail":
        readable = [related_readable(table, fk) for fk in table._meta.foreign_key_columns]
        select = table.select(*table._meta.columns, *readable, exclude_secrets=True)
        return str(select.where(table._meta.primary_key == query.row_id).first())
    visible = table._meta.columns
    readable = (
        [related_readable(table, c) for c in visible if isinstance(c, ForeignKey)]
        if split.include_readable
        else []
    )
    select = with_request_filters(
        crud, table.select(*visible, *readable, exclude_secrets=crud.exclude_secrets), split
    )
    for order in split.order_by or []:
        select = select.order_by(order.column, ascending=order.ascending)
    if not split.order_by:
        select = select.order_by(table._meta.primary_key, ascending=False)
    page_size = split.page_size or crud.page_size
    select = select.limit(page_size)
    if split.page > 1:
        select = select.offset(page_size * (split.page - 1)).limit(page_size)
    return str(select)


def staff_claims(username: str, tenant_id: str) -> str:
    """The claims the admin gate (apps/admin/gate.py) gives a staff request."""
    claims = {
        "sub": f"staff:{username}",
        "tenant_id": tenant_id,
        "tenant_role": "admin",
        "via": "admin",
    }
    return json.dumps(claims, separators=(",", ":"))


async def explain(url: str, sql: str, claims: str | None = None, role: str | None = None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of sql, rolled back: as a staff request when claims are
    given (url is then the authenticator's), else as the write client (its url)."""
    connection = await asyncpg.connect(url)
    transaction = connection.transaction(readonly=claims is not None)
    try:
        await transaction.start()
        if claims is not None:
            args = (claims, role, None)[: BEGIN_REQUEST.count("$")]
            await connection.execute(BEGIN_REQUEST, *args)
        rows = await connection.fetch(f"explain (analyze, buffers) {sql}")
        return "\n".join(r[0] for r in rows)
    finally:
        await transaction.rollback()
        await connection.close()
