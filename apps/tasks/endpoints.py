"""HTTP endpoints for tasks. Isolation is the database's job (RLS, composite FKs)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.tasks import schemas
from apps.tasks.queries import COLUMNS, fetch_task, list_tasks
from apps.tasks.tables import Task
from refresh.db.refusals import warn_if_unchanged
from refresh.web.api import Api, parse_query
from refresh.web.requests import json_body
from refresh.web.resources import Resource
from refresh.web.responses import JSONResponse

api = Api()
TAG = "tasks"

# A task is shown with its project's and assignee's names (fetch_task: one query). A
# project or assignee of another tenant fails the composite foreign key on create or
# change: 422, exactly as for an id that exists nowhere.
tasks = Resource(
    Task,
    "/tasks",
    "task",
    tag=TAG,
    columns=COLUMNS,
    response=schemas.Task,
    create_model=schemas.TaskCreate,
    patch_model=schemas.TaskPatch,
    fetch=fetch_task,
)


@api.route(
    "GET",
    "/tasks",
    summary="List tasks: filter, sort, paginate",
    tag=TAG,
    query=schemas.TaskListQuery,
    response=schemas.TaskList,
)
async def get_tasks(request: Request) -> Response:
    query = parse_query(request, schemas.TaskListQuery)
    return JSONResponse(await list_tasks(query))


tasks.create(api, summary="Create a task")


@api.route(
    "POST",
    "/tasks/bulk-update",
    summary="Change the same fields of many tasks",
    tag=TAG,
    body=schemas.BulkTaskUpdate,
    response=schemas.BulkResult,
    errors=(404,),
)
async def bulk_update(request: Request) -> Response:
    body = await json_body(request, schemas.BulkTaskUpdate)
    ids = list(dict.fromkeys(body.ids))
    changes: dict[Any, Any] = body.set.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, "set at least one field")
    rows = await Task.update(changes).where(Task.id.is_in(ids)).returning(Task.id)
    if len(rows) != len(ids):
        changed = {row["id"] for row in rows}
        await warn_if_unchanged(Task, [i for i in ids if i not in changed], "update")
        # All or nothing: the error status rolls the request transaction back.
        raise HTTPException(404, f"{len(ids) - len(rows)} of the tasks were not found")
    return JSONResponse({"updated": len(rows)})


tasks.get(api, summary="Get a task")
tasks.patch(api, summary="Change some fields of a task")
tasks.delete(api, summary="Delete a task and its comments")
