from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from apps.tasks.tables import HIGHEST_PRIORITY, LOWEST_PRIORITY, TaskStatus
from refresh.web.models import ApiDatetime, QueryInt, Strict, patch_model

Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\s,]+$")]


class TaskCreate(Strict):
    project_id: uuid.UUID
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    status: TaskStatus = TaskStatus.todo
    # strict: JSON `true` is not a priority (lax mode would store it as 1)
    priority: int = Field(default=3, ge=LOWEST_PRIORITY, le=HIGHEST_PRIORITY, strict=True)
    assignee_id: uuid.UUID | None = None
    due_at: ApiDatetime | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


if TYPE_CHECKING:  # a derived model is a value to mypy; for typing it is a TaskCreate
    TaskPatch = TaskCreate
else:
    #: Only the fields sent change; assignee_id and due_at may be set to null.
    TaskPatch = patch_model(TaskCreate, "TaskPatch")


class BulkTaskUpdate(Strict):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    set: TaskPatch


class Task(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    project_name: str
    title: str
    description: str
    status: TaskStatus
    priority: int
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    due_at: datetime | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class TaskList(BaseModel):
    data: list[Task]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class BulkResult(BaseModel):
    updated: int


class TaskListQuery(Strict):
    status: list[TaskStatus] | None = Field(
        default=None, description="one or more, comma or repeat"
    )
    priority_min: QueryInt | None = Field(default=None, ge=LOWEST_PRIORITY, le=HIGHEST_PRIORITY)
    priority_max: QueryInt | None = Field(default=None, ge=LOWEST_PRIORITY, le=HIGHEST_PRIORITY)
    assignee: uuid.UUID | Literal["none"] | None = Field(
        default=None, description="a member id, or none for unassigned tasks"
    )
    due_before: ApiDatetime | None = None
    due_after: ApiDatetime | None = None
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="case-insensitive text in title or description",
    )
    tag: Tag | None = None
    project: uuid.UUID | None = None
    sort: Literal["created_at", "due_at", "priority"] = "created_at"
    order: Literal["asc", "desc"] = "desc"
    limit: QueryInt = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=512)


class CommentCreate(Strict):
    body: str = Field(min_length=1, max_length=10_000)


class CommentPatch(CommentCreate):
    """An edit replaces the body, under the same rules (its own name in the OpenAPI)."""


class Comment(BaseModel):
    id: uuid.UUID
    task_id: uuid.UUID
    author_id: uuid.UUID | None = Field(
        description="null once the author is no longer a member: their comments stay"
    )
    author_name: str | None
    body: str
    created_at: datetime
    updated_at: datetime


class CommentList(BaseModel):
    data: list[Comment]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class CommentListQuery(Strict):
    limit: QueryInt = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=512)
