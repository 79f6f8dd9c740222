"""HTTP endpoints for tasks. Isolation is the database's job (RLS, composite FKs)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.tasks import schemas
from apps.tasks.queries import fetch_task, list_tasks
from apps.tasks.tables import Task
from refresh.web.api import Api, parse_query
from refresh.web.requests import claims_of, found, json_body, path_uuid
from refresh.web.responses import JSONResponse

api = Api()
TAG = "tasks"


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


@api.route(
    "POST",
    "/tasks",
    summary="Create a task",
    tag=TAG,
    status=201,
    body=schemas.TaskCreate,
    response=schemas.Task,
    errors=(409,),
)
async def create_task(request: Request) -> Response:
    body = await json_body(request, schemas.TaskCreate)
    # A project or assignee of another tenant fails the composite foreign key: 422,
    # exactly as for an id that exists nowhere.
    rows = await Task.insert(
        Task(tenant_id=claims_of(request).tenant_id, **body.model_dump())
    ).returning(Task.id)
    return JSONResponse(await fetch_task(rows[0]["id"]), status_code=201)


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
        # All or nothing: the error status rolls the request transaction back.
        raise HTTPException(404, f"{len(ids) - len(rows)} of the tasks were not found")
    return JSONResponse({"updated": len(rows)})


@api.route(
    "GET", "/tasks/{id}", summary="Get a task", tag=TAG, response=schemas.Task, errors=(404,)
)
async def get_task(request: Request) -> Response:
    row = await fetch_task(path_uuid(request))
    return JSONResponse(found(row, "task"))


@api.route(
    "PATCH",
    "/tasks/{id}",
    summary="Change some fields of a task",
    tag=TAG,
    body=schemas.TaskPatch,
    response=schemas.Task,
    errors=(404,),
)
async def update_task(request: Request) -> Response:
    task_id = path_uuid(request)
    changes: dict[Any, Any] = (await json_body(request, schemas.TaskPatch)).model_dump(
        exclude_unset=True
    )
    if changes:
        rows = await Task.update(changes).where(Task.id == task_id).returning(Task.id)
        found(rows, "task")
    return await get_task(request)


@api.route(
    "DELETE",
    "/tasks/{id}",
    summary="Delete a task and its comments",
    tag=TAG,
    status=204,
    errors=(404,),
)
async def delete_task(request: Request) -> Response:
    rows = await Task.delete().where(Task.id == path_uuid(request)).returning(Task.id)
    found(rows, "task")
    return Response(status_code=204)
