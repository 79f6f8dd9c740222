"""The task list: filters, sorting and keyset pagination, as ONE SQL query.

Project name and assignee name come through LEFT JOINs in the same statement (no N+1).
No tenant filter appears: RLS applies to task and to the joined tables alike.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from piccolo.query.methods.select import Select

from apps.tasks.schemas import TaskListQuery
from apps.tasks.tables import Task
from refresh.compat.piccolo_frozen import Param
from refresh.db.transaction import plan_for_values
from refresh.tenancy.frozen import FrozenForTenants
from refresh.web.pagination import SortKey, after_cursor, order_by, page

SORT_KEYS = {
    "created_at": SortKey("created_at", "task.created_at", "timestamptz", "created_at"),
    # NULL due dates sort last in either direction: as 'infinity' ascending (the index's
    # expression), as '-infinity' descending (DUE_AT_DESCENDING).
    "due_at": SortKey("due_at", "coalesce(task.due_at, 'infinity')", "timestamptz", "due_at"),
    "priority": SortKey("priority", "task.priority", "int", "priority"),
}
DUE_AT_DESCENDING = SortKey(
    "due_at", "coalesce(task.due_at, '-infinity')", "timestamptz", "due_at", null="-infinity"
)

COLUMNS = (
    Task.id,
    Task.project_id,
    Task.project_id.name.as_alias("project_name"),
    Task.title,
    Task.description,
    Task.status,
    Task.priority,
    Task.assignee_id,
    Task.assignee_id.display_name.as_alias("assignee_name"),
    Task.due_at,
    Task.tags,
    Task.created_at,
    Task.updated_at,
)


def like_pattern(text: str) -> str:
    """`text` as a literal substring for ILIKE: its own % _ and \\ do not match anything."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(query: TaskListQuery) -> Select[Any]:
    select = Task.select(*COLUMNS)
    if query.status:
        select = select.where(Task.status.is_in(list(query.status)))
    if query.priority_min is not None:
        select = select.where(Task.priority >= query.priority_min)
    if query.priority_max is not None:
        select = select.where(Task.priority <= query.priority_max)
    if query.assignee == "none":
        select = select.where(Task.assignee_id.is_null())
    elif query.assignee is not None:
        select = select.where(Task.assignee_id == query.assignee)
    if query.due_before is not None:
        select = select.where(Task.due_at < query.due_before)
    if query.due_after is not None:
        select = select.where(Task.due_at > query.due_after)
    if query.q is not None:
        pattern = like_pattern(query.q)
        select = select.where(Task.title.ilike(pattern) | Task.description.ilike(pattern))
    if query.tag is not None:
        select = select.where(Task.tags.any(query.tag))
    if query.project is not None:
        select = select.where(Task.project_id == query.project)
    return select


def sort_key(sort: str, descending: bool) -> SortKey:
    return DUE_AT_DESCENDING if sort == "due_at" and descending else SORT_KEYS[sort]


def ordered(select: Select[Any], sort: str, descending: bool, limit: int) -> Select[Any]:
    key = sort_key(sort, descending)
    return select.order_by(order_by(key), Task.id, ascending=not descending).limit(limit + 1)


# Built once, not per request (bench/RESULTS.md: building the select was the largest
# share of a request's CPU), for every tenant (refresh/tenancy/frozen.py). Lazily:
# nothing is compiled at import.
@functools.lru_cache(maxsize=4096)
def unfiltered_page(sort: str, descending: bool, limit: int) -> FrozenForTenants:
    """The first page without filters (the common request), frozen."""
    return FrozenForTenants(Task, lambda: ordered(Task.select(*COLUMNS), sort, descending, limit))


@functools.cache
def by_id() -> FrozenForTenants:
    # .limit(1) as .first() would: the SQL of first(), whose proxy cannot be frozen
    return FrozenForTenants(
        Task, lambda: Task.select(*COLUMNS).where(Task.id == Param("id")).limit(1)
    )


# The parameters that do not change the statement's shape beyond unfiltered_page's key.
UNFILTERED = frozenset({"sort", "order", "limit"})


def is_unfiltered(query: TaskListQuery) -> bool:
    return query.model_fields_set <= UNFILTERED


async def list_tasks(query: TaskListQuery) -> dict[str, Any]:
    descending = query.order == "desc"
    key = sort_key(query.sort, descending)
    if is_unfiltered(query):
        frozen = unfiltered_page(query.sort, descending, query.limit)
        rows = await frozen.rows()
        return page(rows, query.limit, key, descending)
    if not query.model_fields_set <= UNFILTERED | {"cursor"}:
        # Filters of the caller's choosing: planned for their values, so that the plan
        # fits a tenant of any size (a later page of the plain list needs no such care);
        # a search read in the sort key's index order (every sort key has its index).
        await plan_for_values(Task._meta.db, in_index_order=query.q is not None)
    select = filtered(query)
    if query.cursor is not None:
        select = select.where(after_cursor(key, descending, query.cursor, "task"))
    rows = await ordered(select, query.sort, descending, query.limit)
    return page(rows, query.limit, key, descending)


async def fetch_task(task_id: uuid.UUID) -> dict[str, Any] | None:
    rows = await by_id().rows(id=task_id)
    return rows[0] if rows else None
