"""HTTP endpoints for projects. No tenant filter appears here: RLS applies it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apps.projects.tables import Project
from apps.web.requests import claims_of, json_body, path_uuid
from apps.web.responses import JSONResponse

PUBLIC_COLUMNS = (
    Project.id,
    Project.name,
    Project.description,
    Project.status,
    Project.created_at,
    Project.updated_at,
)


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    status: Literal["active", "archived"] = "active"


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise HTTPException(422, "limit must be an integer from 1 to 200")
    return int(raw)


async def list_projects(request: Request) -> Response:
    rows: list[dict[str, Any]] = (
        await Project.select(*PUBLIC_COLUMNS)
        .order_by(Project.created_at, ascending=False)
        .order_by(Project.id)
        .limit(_limit(request))
    )
    return JSONResponse({"data": rows})


async def create_project(request: Request) -> Response:
    body = await json_body(request, ProjectCreate)
    claims = claims_of(request)
    rows = await Project.insert(Project(tenant=claims.tenant_id, **body.model_dump())).returning(
        *PUBLIC_COLUMNS
    )
    return JSONResponse(rows[0], status_code=201)


async def get_project(request: Request) -> Response:
    row = await Project.select(*PUBLIC_COLUMNS).where(Project.id == path_uuid(request)).first()
    if row is None:
        raise HTTPException(404, "not found")
    return JSONResponse(row)


routes = [
    Route("/projects", list_projects, methods=["GET"]),
    Route("/projects", create_project, methods=["POST"]),
    Route("/projects/{id}", get_project, methods=["GET"]),
]
