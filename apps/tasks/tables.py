"""Tasks of a project, and comments on tasks.

References to other rows (project, assignee, task, author) are TenantForeignKeys: Piccolo
foreign keys for joins, and in the database composite foreign keys
(tenant_id, x_id) -> (tenant_id, id), so a row can never point at another tenant's row
(refresh/tenancy/columns.py).
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import UUID, Array, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.readable import Readable
from piccolo.constraints import Check
from piccolo.table import Table

from apps.projects.tables import Project
from apps.tenants.tables import Member
from refresh.tenancy.checks import choices_check
from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.tables import TenantTable


class TaskStatus(StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"
    archived = "archived"


# The priority range, stated once: the table's Check and the API's models read it.
LOWEST_PRIORITY, HIGHEST_PRIORITY = 1, 5


class Task(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    project_id = TenantForeignKey(Project, index=True)
    title = Varchar(length=200, null=False)
    description = Text(default="", null=False)
    status = Varchar(length=16, choices=TaskStatus, default=TaskStatus.todo, null=False)
    priority = Integer(default=3, null=False)
    assignee_id = TenantForeignKey(Member, null=True, index=True, on_delete=OnDelete.set_null)
    due_at = Timestamptz(null=True, default=None)
    tags = Array(base_column=Varchar(length=50), default=list, null=False)

    task_status_check = choices_check("status", TaskStatus)
    task_priority_check = Check(f"priority between {LOWEST_PRIORITY} and {HIGHEST_PRIORITY}")
    task_title_check = Check("length(btrim(title)) > 0")
    # asyncpg reads the two ends of Python's datetime range as -infinity and infinity, and
    # an infinite due date has no place in keyset paging by due_at (its cursor is finite)
    task_due_at_finite = Check("isfinite(due_at)")

    @classmethod
    def get_readable(cls) -> Readable:
        """How a row is named where another row points at it (the admin's pickers)."""
        return Readable(template="%s", columns=[cls.title])


class Comment(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    task_id = TenantForeignKey(Task, index=True)
    author_id = TenantForeignKey(Member, null=True, index=True, on_delete=OnDelete.set_null)
    body = Text(null=False)

    comment_body_check = Check("length(btrim(body)) > 0")
