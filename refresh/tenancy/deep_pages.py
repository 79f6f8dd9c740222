"""Deep pages by seeking, not by OFFSET: page 80,000 of a tenant's list reads one page.

piccolo-admin asks for a page by its number (`__page`), and piccolo-api turns that into
`OFFSET (page - 1) * size`: the last page of 2,000,000 tasks made PostgreSQL read every
row before it, each with its joined project and assignee (seconds). The admin's front end
sends no cursor, and neither library has a hook in the query, so a tenant table's Select
(refresh/tenancy/routing.py) does the seek itself when its OFFSET is deep:

1. the boundary, the sort key of the page's first row, is read alone: the same filters
   and order, `OFFSET n LIMIT 1`, selecting only the key's columns, which an index leading
   with tenant_id answers without the table's rows or joins. From FROM_THE_END on, the
   rows are counted first (exactly, as the admin's count request does: in parallel
   workers on a large tenant) and the boundary is read from the nearer end of the list:
   the last page is the 25th row from the end, not the 1,999,976th from the start;
2. the page is then the rows from that key on, `(a, b) >= (boundary)` (`<=` descending),
   `LIMIT size` without OFFSET: an index range read of one page.

The rows are the OFFSET's: the key is total (the primary key ends it; ties of the other
columns are in no defined order in SQL, and the key gives them one, the same in every
statement). Only what PostgreSQL's row comparison expresses exactly is sought: an order
on the table's own NOT NULL columns, all in one direction; filters that are column
conditions on the table's own columns (no raw SQL, nothing through a join); a selection
of columns and readables (a raw expression, such as a window function, would see only
the rows from the boundary on). Any other query keeps its OFFSET. The statements run in
the query's transaction, under its policies; like two requests for two pages, they see
rows written between them (READ COMMITTED), which may move a page by that many rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Where, WhereRaw
from piccolo.columns.readable import Readable
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

from refresh.compat.piccolo import (
    drop_offset,
    is_plain_select,
    select_offset,
    select_ordering,
    select_with_filters_of,
    selected_items,
    where_conditions,
)

# Below it an OFFSET reads a few pages' rows, less than the boundary's extra round trip.
DEEP_OFFSET = 1_000
# From here a count (a read of every row the filters match) is cheaper than reading the
# keys up to the offset; below it a count could cost more than the page (a substring
# filter's count on 2M tasks: 0.8 s).
FROM_THE_END = 50_000


@dataclass(frozen=True)
class SeekKey:
    columns: tuple[Column, ...]
    ascending: bool
    primary_key_added: bool


def own_column(column: Any, table: Any) -> bool:
    return (
        isinstance(column, Column)
        and not column._meta.call_chain
        and column._meta.table._meta.tablename == table._meta.tablename
        and getattr(column, "index", None) is None  # not an element of an array
    )


def seek_key(query: Select) -> SeekKey | None:  # type: ignore[type-arg]
    """The query's ordering as a key to seek on, or None when it is not one."""
    ordering = select_ordering(query)
    if not ordering or len({ascending for _, ascending in ordering}) != 1:
        return None
    table = query.table
    columns: list[Column] = []
    for column, _ in ordering:
        if not own_column(column, table) or column._meta.null:
            return None
        columns.append(column)
    key = table._meta.primary_key
    added = key._meta.db_column_name not in [c._meta.db_column_name for c in columns]
    if added:
        columns.append(key)
    return SeekKey(tuple(columns), ordering[0][1], added)


def seekable(query: Select) -> SeekKey | None:  # type: ignore[type-arg]
    """The key to seek on when the query's OFFSET is deep and the seek gives the same
    rows; None otherwise (most queries: no OFFSET, decided without a statement)."""
    if select_offset(query) < DEEP_OFFSET or not is_plain_select(query):
        return None
    if not all(isinstance(item, Column | Readable) for item in selected_items(query)):
        return None
    for condition in where_conditions(query.where_delegate):
        if not isinstance(condition, Where) or not own_column(condition.column, query.table):
            return None
    return seek_key(query)


def sql_name(column: Column) -> str:
    return column._meta.get_full_name(with_alias=False)


async def boundary_of(
    query: Select,  # type: ignore[type-arg]
    key: SeekKey,
    offset: int,
    node: str | None,
) -> list[Any] | None:
    """The key of the row at `offset` in the query's order, or None past the last row."""
    from_start = True
    if offset >= FROM_THE_END:
        count = select_with_filters_of(query, [QueryString("count(*) AS seek_count")])
        [row] = await count.run(node=node)
        total = row["seek_count"]
        if offset >= total:
            return None
        from_start = offset <= total // 2
        offset = offset if from_start else total - 1 - offset
    names = [QueryString(f'{sql_name(c)} AS "seek_{i}"') for i, c in enumerate(key.columns)]
    boundary = select_with_filters_of(query, names)
    boundary.order_by(*key.columns, ascending=key.ascending == from_start)
    rows = await boundary.offset(offset).limit(1).run(node=node)
    return [rows[0][f"seek_{i}"] for i in range(len(key.columns))] if rows else None


async def seek_deep_page(
    query: Select,  # type: ignore[type-arg]
    key: SeekKey,
    node: str | None,
) -> None:
    """Turn the deep OFFSET of `query` (`seekable` gave its key) into a seek from its
    page's first row, in place (only once the boundary is known: a failed read leaves the
    query as it was)."""
    values = await boundary_of(query, key, select_offset(query), node)
    drop_offset(query)
    if key.primary_key_added:
        query.order_by(key.columns[-1], ascending=key.ascending)
    if values is None:
        query.where(WhereRaw("false"))  # past the last row: an empty page, as OFFSET's
        return
    names = ", ".join(sql_name(c) for c in key.columns)
    placeholders = ", ".join("{}" for _ in key.columns)
    operator = ">=" if key.ascending else "<="
    query.where(WhereRaw(f"({names}) {operator} ({placeholders})", *values))
