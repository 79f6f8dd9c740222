"""Task counts of a project per status (`GET /api/projects/{id}/stats`): a projects route,
served by the tasks app, which knows the tasks."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Count
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.projects import schemas
from apps.projects.tables import Project
from apps.tasks.tables import Task, TaskStatus
from refresh.web.api import Api
from refresh.web.requests import path_uuid
from refresh.web.responses import JSONResponse

api = Api()


@api.route(
    "GET",
    "/projects/{id}/stats",
    summary="Task counts of a project per status",
    tag="projects",
    response=schemas.ProjectStats,
    errors=(404,),
)
async def project_stats(request: Request) -> Response:
    project_id = path_uuid(request)
    if not await Project.exists().where(Project.id == project_id):
        raise HTTPException(404, "project not found")
    counts = (
        await Task.select(Task.status, Count(alias="n"))
        .where(Task.project_id == project_id)
        .group_by(Task.status)
    )
    by_status = {status.value: 0 for status in TaskStatus}
    by_status.update({row["status"]: row["n"] for row in counts})
    return JSONResponse(
        {"project_id": project_id, "total": sum(by_status.values()), "by_status": by_status}
    )
