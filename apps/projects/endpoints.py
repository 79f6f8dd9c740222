"""HTTP endpoints for projects. No tenant filter appears here: RLS applies it."""

from __future__ import annotations

from typing import Any

from piccolo.query.methods.select import Select

from apps.projects import schemas
from apps.projects.tables import Project
from refresh.web.api import Api
from refresh.web.pagination import SortKey
from refresh.web.resources import Resource

api = Api()

COLUMNS = (
    Project.id,
    Project.name,
    Project.description,
    Project.status,
    Project.created_at,
    Project.updated_at,
)
NEWEST_FIRST = SortKey("created_at", "project.created_at", "timestamptz", "created_at")

projects = Resource(
    Project,
    "/projects",
    "project",
    tag="projects",
    columns=COLUMNS,
    response=schemas.Project,
    create_model=schemas.ProjectCreate,
    patch_model=schemas.ProjectPatch,
)


def by_status(select: Select[Any], query: schemas.ProjectListQuery) -> Select[Any]:
    return select if query.status is None else select.where(Project.status == query.status)


projects.list(
    api,
    summary="List the tenant's projects, newest first",
    query=schemas.ProjectListQuery,
    response=schemas.ProjectList,
    filters=by_status,
    sort=NEWEST_FIRST,
)
projects.create(api, summary="Create a project")
projects.get(api, summary="Get a project")
projects.patch(api, summary="Change some fields of a project")
projects.delete(api, summary="Delete a project and its tasks")
