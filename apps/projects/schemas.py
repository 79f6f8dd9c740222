"""Request and response shapes of the projects API (validated, and documented in OpenAPI)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from apps.projects.tables import ProjectStatus
from refresh.web.models import QueryInt, Strict, patch_model


class ProjectCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    status: ProjectStatus = ProjectStatus.active


ProjectPatch = patch_model(ProjectCreate, "ProjectPatch")


class Project(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    status: ProjectStatus
    created_at: datetime
    updated_at: datetime


class ProjectList(BaseModel):
    data: list[Project]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class ProjectListQuery(Strict):
    limit: QueryInt = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=512)
    status: ProjectStatus | None = None


class ProjectStats(BaseModel):
    project_id: uuid.UUID
    total: int
    by_status: dict[str, int] = Field(description="task count per status, every status listed")
