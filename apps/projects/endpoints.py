"""HTTP endpoints for projects. No tenant filter appears here: RLS applies it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apps.projects import schemas
from apps.projects.tables import Project
from refresh.web.api import Api, parse_query
from refresh.web.pagination import SortKey, after_cursor, order_by, page
from refresh.web.requests import claims_of, found, json_body, path_uuid
from refresh.web.responses import JSONResponse

api = Api()
TAG = "projects"

COLUMNS = (
    Project.id,
    Project.name,
    Project.description,
    Project.status,
    Project.created_at,
    Project.updated_at,
)
NEWEST_FIRST = SortKey("created_at", "project.created_at", "timestamptz", "created_at")


@api.route(
    "GET",
    "/projects",
    summary="List the tenant's projects, newest first",
    tag=TAG,
    query=schemas.ProjectListQuery,
    response=schemas.ProjectList,
)
async def list_projects(request: Request) -> Response:
    query = parse_query(request, schemas.ProjectListQuery)
    select = Project.select(*COLUMNS)
    if query.status is not None:
        select = select.where(Project.status == query.status)
    if query.cursor is not None:
        select = select.where(after_cursor(NEWEST_FIRST, True, query.cursor, "project"))
    rows = await select.order_by(order_by(NEWEST_FIRST), Project.id, ascending=False).limit(
        query.limit + 1
    )
    return JSONResponse(page(rows, query.limit, NEWEST_FIRST, True))


@api.route(
    "POST",
    "/projects",
    summary="Create a project",
    tag=TAG,
    status=201,
    body=schemas.ProjectCreate,
    response=schemas.Project,
    errors=(409,),
)
async def create_project(request: Request) -> Response:
    body = await json_body(request, schemas.ProjectCreate)
    rows = await Project.insert(
        Project(tenant_id=claims_of(request).tenant_id, **body.model_dump())
    ).returning(*COLUMNS)
    return JSONResponse(rows[0], status_code=201)


@api.route(
    "GET",
    "/projects/{id}",
    summary="Get a project",
    tag=TAG,
    response=schemas.Project,
    errors=(404,),
)
async def get_project(request: Request) -> Response:
    row = await Project.select(*COLUMNS).where(Project.id == path_uuid(request)).first()
    return JSONResponse(found(row, "project"))


@api.route(
    "PATCH",
    "/projects/{id}",
    summary="Change some fields of a project",
    tag=TAG,
    body=schemas.ProjectPatch,
    response=schemas.Project,
    errors=(404,),
)
async def update_project(request: Request) -> Response:
    project_id = path_uuid(request)
    changes: dict[Any, Any] = (await json_body(request, schemas.ProjectPatch)).model_dump(
        exclude_unset=True
    )
    if not changes:
        return await get_project(request)
    rows = await Project.update(changes).where(Project.id == project_id).returning(*COLUMNS)
    return JSONResponse(found(rows, "project")[0])


@api.route(
    "DELETE",
    "/projects/{id}",
    summary="Delete a project and its tasks",
    tag=TAG,
    status=204,
    errors=(404,),
)
async def delete_project(request: Request) -> Response:
    rows = await Project.delete().where(Project.id == path_uuid(request)).returning(Project.id)
    found(rows, "project")
    return Response(status_code=204)
