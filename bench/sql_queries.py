"""The API's typical queries, as the SQL Piccolo generates for them, in three variants.

(a) rls         the query exactly as the API runs it: no tenant filter, the policies of
                task, project and member (`tenant_id = auth.tenant_id()`) do the filtering;
(b) explicit    the same Piccolo query plus `.where(Task.tenant_id == tenant_id)`, run by the
                write client (BYPASSRLS): what an application without RLS would send;
(c) correlated  (a)'s SQL on task_correlated, a copy of task whose policy is Drizzle's Neon
                form `(select auth.tenant_id() = tenant_id)` (bench/correlated.py).

The list queries come from apps/tasks/queries.py (`filtered` + the sort key + limit + 1,
as list_tasks builds them) and fetch-by-id from its `fetch_task`; count by status has no
endpoint yet and is the Piccolo query such an endpoint would run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.select import Select

from apps.tasks.queries import COLUMNS, SORT_KEYS, filtered
from apps.tasks.schemas import TaskListQuery
from apps.tasks.tables import Task
from refresh.web.pagination import order_by

SEARCH_WORD = "invoice"  # in about 1 title in 14 (bench/datagen.py OBJECTS)


@dataclass(frozen=True)
class TenantSample:
    tenant_id: uuid.UUID
    task_id: uuid.UUID  # one of the tenant's tasks, for fetch by id


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Variants:
    rls: Statement
    explicit: Statement
    correlated: Statement


@dataclass(frozen=True)
class BenchQuery:
    name: str
    request: str  # the API request it stands for
    build: Callable[[TenantSample, bool], Select[Any]]  # (sample, explicit filter) -> query

    def variants(self, sample: TenantSample) -> Variants:
        rls = compile_select(self.build(sample, False))
        explicit = compile_select(self.build(sample, True))
        return Variants(rls, explicit, Statement(on_correlated_table(rls.sql), rls.args))


def compile_select(select: Select[Any]) -> Statement:
    sql, args = select.querystrings[0].compile_string(engine_type="postgres")
    return Statement(sql, tuple(args))


_QUOTED = re.compile(r'"task"(?=[\s.]|$)')
_BARE = re.compile(r'(?<![\w$"])task\.')


def on_correlated_table(sql: str) -> str:
    """The same statement reading task_correlated; the joins (`"task$project"`) stay."""
    out = _BARE.sub("task_correlated.", _QUOTED.sub('"task_correlated"', sql))
    if re.search(r'"task"|(?<![\w$"])task\.', out):
        raise ValueError(f"task is still referenced: {out}")
    return out


def list_select(query: TaskListQuery) -> Select[Any]:
    """list_tasks' query (first page), built by the same functions."""
    key = SORT_KEYS[query.sort]
    return (
        filtered(query)
        .order_by(order_by(key), Task.id, ascending=query.order != "desc")
        .limit(query.limit + 1)
    )


def _tenant(select: Select[Any], sample: TenantSample, explicit: bool) -> Select[Any]:
    return select.where(Task.tenant_id == sample.tenant_id) if explicit else select


def _list(params: dict[str, Any]) -> Callable[[TenantSample, bool], Select[Any]]:
    query = TaskListQuery.model_validate(params)

    def build(sample: TenantSample, explicit: bool) -> Select[Any]:
        return _tenant(list_select(query), sample, explicit)

    return build


def _count_by_status(sample: TenantSample, explicit: bool) -> Select[Any]:
    return _tenant(Task.select(Task.status, Count()).group_by(Task.status), sample, explicit)


def _fetch_by_id(sample: TenantSample, explicit: bool) -> Select[Any]:
    # fetch_task's query: `.first()` adds LIMIT 1.
    select = Task.select(*COLUMNS).where(Task.id == sample.task_id).limit(1)
    return _tenant(select, sample, explicit)


QUERIES = (
    BenchQuery("list page", "GET /api/tasks?limit=50", _list({"limit": 50})),
    BenchQuery(
        "filtered list",
        "GET /api/tasks?status=todo,in_progress&priority_min=4&sort=due_at&order=asc",
        _list(
            {
                "status": ["todo", "in_progress"],
                "priority_min": 4,
                "sort": "due_at",
                "order": "asc",
                "limit": 50,
            }
        ),
    ),
    BenchQuery(
        "count by status",
        "(no endpoint yet) select status, count(*) group by status",
        _count_by_status,
    ),
    BenchQuery("fetch by id", "GET /api/tasks/{id}", _fetch_by_id),
    BenchQuery(
        "text search",
        f"GET /api/tasks?q={SEARCH_WORD}&limit=50",
        _list({"q": SEARCH_WORD, "limit": 50}),
    ),
)
