"""Deep pages by seeking, not by OFFSET: page 80,000 of a tenant's list reads one page.

piccolo-admin asks for a page by its number (`__page`), and piccolo-api turns that into
`OFFSET (page - 1) * size`: the last page of 2,000,000 tasks made PostgreSQL read every
row before it, each with its joined project and assignee (seconds). The admin's front end
sends no cursor, and neither library has a hook in the query, so a tenant table's Select
(refresh/tenancy/routing.py) does the seek itself when its OFFSET is deep:

1. the rows are counted (exactly, as the admin's own count request does: an index-only
   count, in parallel workers on a large tenant);
2. the boundary, the ordering key of the page's first row, is read alone from the nearer
   end of the list: the same filters and order (reversed from the end), `OFFSET n LIMIT 1`,
   selecting only the key's columns, which an index leading with tenant_id answers
   without the table's rows or joins;
3. the page is then the rows from that key on, `(a, b) >= (boundary)` (`<=` descending),
   `LIMIT size` without OFFSET: an index range read of one page.

The result is the OFFSET's: the key is total (the primary key ends it; ties of the other
columns are in no defined order in SQL, and the key gives them one, the same in both
queries). Only an ordering PostgreSQL's row comparison expresses exactly is sought: the
table's own NOT NULL columns, all in one direction, with filters on the table's own
columns; any other query keeps its OFFSET. All three statements run in the query's transaction
and under its policies: a page holds what the OFFSET would have shown, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.count import Count
from piccolo.query.methods.select import Select

from refresh.compat.piccolo import drop_offset, is_plain_select, select_offset, select_ordering

# Below it an OFFSET reads a few pages' rows, less than the boundary's extra round trip.
DEEP_OFFSET = 1_000


@dataclass(frozen=True)
class SeekKey:
    columns: tuple[Column, ...]
    ascending: bool
    primary_key_added: bool


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
    names = [c._meta.db_column_name for c in columns]
    added = key._meta.db_column_name not in names
    if added:
        columns.append(key)
    return SeekKey(tuple(columns), ordering[0][1], added)


def own_column(column: Any, table: Any) -> bool:
    return (
        isinstance(column, Column)
        and not column._meta.call_chain
        and column._meta.table._meta.tablename == table._meta.tablename
    )


def seekable(query: Select) -> SeekKey | None:  # type: ignore[type-arg]
    if select_offset(query) < DEEP_OFFSET or not is_plain_select(query):
        return None
    if not all(own_column(c, query.table) for c in query.where_delegate.get_where_columns()):
        return None
    return seek_key(query)


async def seek_deep_page(query: Select, node: str | None) -> None:  # type: ignore[type-arg]
    """Turn a deep OFFSET of `query` into a seek from its page's first row, in place."""
    key = seekable(query)
    if key is None:
        return
    offset = select_offset(query)
    count = Count(table=query.table)
    count.where_delegate = query.where_delegate  # read only: the same filters
    total = await count.run(node=node)
    drop_offset(query)
    if key.primary_key_added:
        query.order_by(key.columns[-1], ascending=key.ascending)
    if offset >= total:
        query.where(WhereRaw("false"))  # past the last row: an empty page, as OFFSET's
        return
    # The boundary is read from the nearer end: the last page of 2M rows is the 25th row
    # from the end, not the 1,999,976th from the start.
    from_start = offset <= total // 2
    boundary = Select(table=query.table, columns_list=list(key.columns))
    boundary.where_delegate = query.where_delegate  # read only: the same filters
    boundary.order_by(*key.columns, ascending=key.ascending == from_start)
    boundary.offset(offset if from_start else total - 1 - offset).limit(1)
    rows = await boundary.run(node=node)
    if not rows:  # rows deleted since the count: nothing at this offset any more
        query.where(WhereRaw("false"))
        return
    names = ", ".join(c._meta.get_full_name(with_alias=False) for c in key.columns)
    placeholders = ", ".join("{}" for _ in key.columns)
    operator = ">=" if key.ascending else "<="
    values = [rows[0][c._meta.name] for c in key.columns]
    query.where(WhereRaw(f"({names}) {operator} ({placeholders})", *values))
