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
on the table's own NOT NULL columns, all in one direction; filters that are conditions
on the table's own columns compared with values (no raw SQL, nothing through a join,
no column or SQL as the value); a selection of columns and readables whose joins follow
declared foreign keys to a unique column (a raw expression, such as a window function,
would see only the rows from the boundary on; `join_on` may join several rows to one).
Any other query keeps its OFFSET. The boundary travels as text and is cast back to each
column's own type in the database, so a value Python reads otherwise (an interval's
'1 year', a timestamp past year 9999) compares as it is stored. The query itself is not
changed: the seek runs on a copy, so it may be awaited again with another offset. The
statements run in the query's transaction, under its policies; like two requests for
two pages, they see rows written between them (READ COMMITTED), which may move a page by
that many rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Where, WhereRaw
from piccolo.columns.readable import Readable
from piccolo.query.base import Query
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

from refresh.compat.piccolo import (
    AnySelect,
    drop_offset,
    is_plain_select,
    select_offset,
    select_ordering,
    select_with_filters_of,
    selected_items,
    where_conditions,
    with_own_paging,
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


def joins_one_row_each(column: Column) -> bool:
    """Whether the joins a selected column reaches through (`project_id.name`) follow
    declared foreign keys to a primary key or unique column, so that they keep the table's
    rows as they are; `join_on` joins on any column and may join several rows to one."""
    for key in column._meta.call_chain:
        declared = {c._meta.name for c in key._meta.table._meta.foreign_key_columns}
        target = key._foreign_key_meta.resolved_target_column
        if key._meta.name not in declared or not (target._meta.primary_key or target._meta.unique):
            return False
    return True


def selects_rows_of_its_table(item: Any) -> bool:
    if isinstance(item, Readable):
        return all(joins_one_row_each(column) for column in item.columns)
    return isinstance(item, Column) and joins_one_row_each(item)


def compares_with_values(condition: Any, table: Any) -> bool:
    """A condition on one of the table's own columns against values: neither a column
    (`Task.title != Task.project_id.name`) nor SQL, which may name a join that the
    boundary's statement does not have."""
    if not isinstance(condition, Where) or not own_column(condition.column, table):
        return False
    values = condition.values if isinstance(condition.values, list | tuple) else [condition.values]
    return not any(isinstance(v, Column | QueryString | Query) for v in [condition.value, *values])


def seekable(query: Select) -> SeekKey | None:  # type: ignore[type-arg]
    """The key to seek on when the query's OFFSET is deep and the seek gives the same
    rows; None otherwise (most queries: no OFFSET, decided without a statement)."""
    if select_offset(query) < DEEP_OFFSET or not is_plain_select(query):
        return None
    if not all(selects_rows_of_its_table(item) for item in selected_items(query)):
        return None
    conditions = where_conditions(query.where_delegate)
    if not all(compares_with_values(condition, query.table) for condition in conditions):
        return None
    return seek_key(query)


def sql_name(column: Column) -> str:
    return column._meta.get_full_name(with_alias=False)


@dataclass(frozen=True)
class Boundary:
    """The key of a page's first row: each column's value as text and its type's name."""

    values: tuple[str, ...]
    types: tuple[str, ...]


async def boundary_of(
    query: Select,  # type: ignore[type-arg]
    key: SeekKey,
    offset: int,
    node: str | None,
) -> Boundary | None:
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
    names = []
    for i, column in enumerate(key.columns):
        names.append(QueryString(f'{sql_name(column)}::text AS "seek_{i}"'))
        names.append(QueryString(f'pg_typeof({sql_name(column)})::text AS "seek_type_{i}"'))
    boundary = select_with_filters_of(query, names)
    boundary.order_by(*key.columns, ascending=key.ascending == from_start)
    rows = await boundary.offset(offset).limit(1).run(node=node)
    if not rows:
        return None
    indexes = range(len(key.columns))
    return Boundary(
        tuple(rows[0][f"seek_{i}"] for i in indexes),
        tuple(rows[0][f"seek_type_{i}"] for i in indexes),
    )


async def seek_deep_page(query: AnySelect, key: SeekKey, node: str | None) -> AnySelect:
    """The query (`seekable` gave its key) with its deep OFFSET turned into a seek from
    its page's first row: a copy, the query itself unchanged."""
    boundary = await boundary_of(query, key, select_offset(query), node)
    sought = with_own_paging(query)
    drop_offset(sought)
    if key.primary_key_added:
        sought.order_by(key.columns[-1], ascending=key.ascending)
    if boundary is None:
        sought.where(WhereRaw("false"))  # past the last row: an empty page, as OFFSET's
        return sought
    names = ", ".join(sql_name(c) for c in key.columns)
    # a type name as pg_typeof() gives it is one the parser reads back (regtype's output)
    values = ", ".join(f"CAST(CAST({{}} AS text) AS {name})" for name in boundary.types)
    operator = ">=" if key.ascending else "<="
    sought.where(WhereRaw(f"({names}) {operator} ({values})", *boundary.values))
    return sought
