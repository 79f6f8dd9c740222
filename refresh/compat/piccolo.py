"""Piccolo: what a foreign key column references, the joins a query makes (and a condition
added to one, and a Select whose joins can be rewritten), a new migration file's id and
path, what a Select selects, filters, orders and skips (for the deep pages'
seek, refresh/tenancy/deep_pages.py), and the checks a migration adds.

tests/refresh/compat/test_piccolo.py fails if Piccolo changes either.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from piccolo.columns import Column, ForeignKey
from piccolo.columns.combination import And, Or, WhereRaw
from piccolo.columns.readable import Readable
from piccolo.conf.apps import AppConfig
from piccolo.constraints import Check
from piccolo.query.methods.select import Select
from piccolo.query.mixins import OffsetDelegate, OrderBy, OrderByDelegate, WhereDelegate
from piccolo.querystring import QueryString
from piccolo.table import Table

AnySelect = TypeVar("AnySelect", bound=Select)  # type: ignore[type-arg]
AnyQuery = TypeVar("AnyQuery")


def referenced_table(column: ForeignKey[Table]) -> type[Table]:
    """The table a foreign key column points at (a lazy reference resolved). Piccolo keeps
    it in `column._foreign_key_meta` and offers no public accessor for it."""
    return column._foreign_key_meta.resolved_references


def key_actions(column: ForeignKey[Table]) -> tuple[str, str]:
    """(ON DELETE, ON UPDATE) of a foreign key column, as SQL says them ("CASCADE", ...);
    kept in the same private `_foreign_key_meta`."""
    meta = column._foreign_key_meta
    return meta.on_delete.value, meta.on_update.value


def new_migration_file(app_config: AppConfig) -> tuple[str, Path]:
    """(id, path) of a new migration of the app, in Piccolo's own format.

    Piccolo orders migrations by id (a timestamp to the microsecond) and loads every
    module of the folder; its generator for both is private, so the format is repeated
    here. tests/refresh/compat/test_piccolo.py compares it with Piccolo's.
    """
    migration_id = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S:%f")
    cleaned = migration_id.replace(":", "_").replace("-", "_").lower()
    folder = Path(app_config.resolved_migrations_folder_path)
    return migration_id, folder / f"{app_config.app_name}_{cleaned}.py"


def joined_keys(columns: Iterable[Any]) -> list[ForeignKey[Table]]:
    """The foreign keys through which these columns join other tables, in join order:
    each column's `_meta.call_chain` (a readable's or a raw fragment's columns too), the
    chain Select._get_joins turns into LEFT JOINs aliased by `key.table_alias`."""
    flat: list[Any] = []
    for item in columns:
        if isinstance(item, Readable):
            flat += item.columns
        elif isinstance(item, QueryString):
            flat += getattr(item, "columns", [])
        else:
            flat.append(item)
    return [key for column in flat if isinstance(column, Column) for key in column._meta.call_chain]


def join_with_condition(join: str, alias: str, condition: str) -> str:
    """One of Select._get_joins' strings with `AND condition` added to its ON clause when
    it joins under `alias`; `{left}` in condition names the join's left side. Piccolo
    renders a join as `LEFT JOIN t "alias" ON (left."key" = "alias"."pk")` and offers no
    way to add a condition to it (tests/refresh/compat/test_piccolo.py checks the form)."""
    head, separator, on = join.partition(f'"{alias}" ON (')
    if not separator or not on.endswith(")"):
        return join
    left = on.split('."', 1)[0]
    return f"{head}{separator}{on[:-1]} AND {condition.format(left=left)})"


class JoinRewritingSelect(Select):  # type: ignore[type-arg]
    """A Select whose subclass may rewrite the LEFT JOINs it makes (`rewrite_joins`).
    Overrides Select._get_joins, private: Piccolo has no extension point for a join's
    condition; tests/refresh/compat/test_piccolo.py fails if its join form changes."""

    def _get_joins(self, columns: Sequence[Any]) -> list[str]:
        return self.rewrite_joins(super()._get_joins(columns), columns)

    def rewrite_joins(self, joins: list[str], columns: Sequence[Any]) -> list[str]:
        return joins


class GroupedWhereDelegate(WhereDelegate):
    """Piccolo's WhereDelegate, except that raw SQL given to where() is parenthesised.

    Piccolo renders a WhereRaw (or a QueryString, which becomes one) as written inside
    its `(a AND b)`: `where(tenant)` then `where(WhereRaw("x OR y"))` gave
    `(tenant AND x OR y)`, and the OR escaped the tenant condition. Piccolo has no hook
    for how a condition renders, so the queries of tenant tables take this delegate
    (refresh/tenancy/routed.py); tests/refresh/compat/test_piccolo.py fails if Piccolo
    starts grouping raw conditions itself."""

    def where(self, *where: Any) -> None:
        grouped = [
            WhereRaw("({})", arg.querystring if isinstance(arg, WhereRaw) else arg)
            if isinstance(arg, WhereRaw | QueryString)
            else arg
            for arg in where
        ]
        super().where(*grouped)


def group_raw_filters(query: AnyQuery) -> AnyQuery:
    """The query (with no filter yet) with raw conditions parenthesised from now on."""
    target: Any = query  # Select, Objects, Count, Exists, Update, Delete: each has one
    assert not has_filter(target.where_delegate), "group raw filters before the first"
    target.where_delegate = GroupedWhereDelegate()
    return query


def current_filter(where_delegate: Any) -> Any:
    """A query's whole WHERE as one condition (None without one): `_where`, for which
    Piccolo has no public accessor."""
    return where_delegate._where


def has_filter(where_delegate: Any) -> bool:
    """Whether a query has a WHERE: its where delegate keeps the combined filter in
    `_where` (None without one), for which Piccolo has no public accessor."""
    return where_delegate._where is not None


def select_offset(query: Select) -> int:  # type: ignore[type-arg]
    """A Select's OFFSET (0 without one), kept in `offset_delegate._offset`; Piccolo has
    no public accessor for it."""
    offset = query.offset_delegate._offset
    return 0 if offset is None else offset.number


def drop_offset(query: Select) -> None:  # type: ignore[type-arg]
    query.offset_delegate._offset = None


def with_own_paging(query: AnySelect) -> AnySelect:
    """A copy of a Select sharing all but its WHERE, ORDER BY and OFFSET, which the copy
    may change without changing the query (awaited again, with another offset, say). A
    Select has no copy(): its parts are delegates, and these three are replaced."""
    other = copy.copy(query)
    other.where_delegate = type(query.where_delegate)(_where=query.where_delegate._where)
    items = list(query.order_by_delegate._order_by.order_by_items)
    other.order_by_delegate = OrderByDelegate(_order_by=OrderBy(order_by_items=items))
    other.offset_delegate = OffsetDelegate()
    other.offset_delegate._offset = query.offset_delegate._offset
    return other


def select_ordering(query: Select) -> list[tuple[Any, bool]]:  # type: ignore[type-arg]
    """A Select's ORDER BY as (column or raw fragment, ascending) pairs, in order, from
    `order_by_delegate._order_by.order_by_items`."""
    return [
        (column, item.ascending)
        for item in query.order_by_delegate._order_by.order_by_items
        for column in item.columns
    ]


def is_plain_select(query: Select) -> bool:  # type: ignore[type-arg]
    """Whether a Select is rows of its table filtered, ordered and paged, nothing more: no
    DISTINCT, GROUP BY, HAVING, AS OF, row locks, and not frozen (its SQL fixed)."""
    return not (
        query.distinct_delegate._distinct.enabled
        or query.group_by_delegate._group_by is not None
        or query.having_delegate._where is not None
        or query.as_of_delegate._as_of is not None
        or query.lock_rows_delegate._lock_rows is not None
        or query._frozen_querystrings is not None
    )


def where_conditions(where_delegate: Any) -> list[Any]:
    """The leaves of a query's WHERE: `And`/`Or` are walked through (`first`, `second`),
    anything else (a `Where`, a `WhereRaw`) is a leaf."""
    leaves, pending = [], [where_delegate._where]
    while pending:
        node = pending.pop()
        if node is None:
            continue
        if isinstance(node, And | Or):
            pending += [node.first, node.second]
        else:
            leaves.append(node)
    return leaves


def select_with_filters_of(query: Select, columns: Sequence[Any]) -> Select:  # type: ignore[type-arg]
    """A plain Select of `columns` from the query's table with the query's very filters
    (its where delegate, shared: neither query may add to it afterwards)."""
    other = Select(table=query.table, columns_list=columns)
    other.where_delegate = query.where_delegate
    return other


def selected_items(query: Select) -> list[Any]:  # type: ignore[type-arg]
    """What a Select selects (columns, readables, raw fragments), as given; empty for all
    columns. Kept in `columns_delegate.selected_columns`."""
    return list(query.columns_delegate.selected_columns)


def reshaped_tables(manager: Any) -> set[str]:
    """Class names of the tables a migration creates, renames, moves to another schema, or
    adds, renames or alters columns of: Piccolo runs a migration's raw steps before those
    (`MigrationManager.run`), so a raw step still sees such a table in its old shape."""
    return (
        {table.class_name for table in manager.add_tables}
        | {renamed.new_class_name for renamed in manager.rename_tables}
        | {moved.class_name for moved in manager.change_table_schemas}
        | set(manager.add_columns.table_class_names)
        | set(manager.rename_columns.table_class_names)
        | set(manager.alter_columns.table_class_names)
    )


def added_checks(manager: Any) -> list[tuple[str, str, str]]:
    """(table, check name, condition) of each check a migration (a MigrationManager) adds
    to a table it does not create or reshape (`reshaped_tables`: a check naming a column
    the migration adds could not be tried before it). Piccolo keeps them in
    `add_constraints.add_constraints` (AddConstraintClass) and offers no accessor."""
    reshaped = reshaped_tables(manager)
    found = []
    for added in manager.add_constraints.add_constraints:
        constraint = added.constraint
        if isinstance(constraint, Check) and added.table_class_name not in reshaped:
            table = f"{added.schema}.{added.tablename}" if added.schema else added.tablename
            found.append((table, constraint._meta.name, constraint.get_condition_str()))
    return found
