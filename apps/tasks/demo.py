"""The tasks of the demo tenants' projects, with a comment on each (`piccolo tenants demo`)."""

from __future__ import annotations

import datetime
import uuid

from apps.projects.tables import Project
from apps.tasks.tables import Comment, Task, TaskStatus
from apps.tenants.demo import first_member
from apps.tenants.tables import Member
from refresh.db.clients import write_client

# (project name, title, status, priority, assignee, due in days, tags)
DemoTask = tuple[str, str, TaskStatus, int, str | None, int | None, list[str]]
DEMO_TASKS: dict[str, list[DemoTask]] = {
    "acme": [
        ("Website relaunch", "Draft the sitemap", TaskStatus.done, 2, "alice", -3, ["content"]),
        (
            "Website relaunch",
            "Choose a CMS",
            TaskStatus.in_progress,
            4,
            "bob",
            5,
            ["tech", "decision"],
        ),
        ("Website relaunch", "Write launch copy", TaskStatus.todo, 3, None, 12, ["content"]),
        ("Mobile app", "Push notifications", TaskStatus.todo, 5, "bob", 2, ["tech"]),
        ("Mobile app", "App store screenshots", TaskStatus.todo, 1, None, None, []),
    ],
    "globex": [
        ("Data warehouse", "Model the sales facts", TaskStatus.in_progress, 4, "gina", 7, ["data"]),
        ("Data warehouse", "Nightly load job", TaskStatus.todo, 3, "hank", 14, ["data", "ops"]),
        ("Compliance audit", "Collect access reviews", TaskStatus.todo, 5, "hank", 1, ["audit"]),
        ("Compliance audit", "Vendor questionnaire", TaskStatus.done, 2, None, -10, ["audit"]),
    ],
}


async def ids_by(
    table: type[Project] | type[Member], key: str, tenant_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    column = table._meta.get_column_by_name(key)
    rows = await write_client.run(
        table.select(table.id, column).where(table.tenant_id == tenant_id)
    )
    return {row[key]: row["id"] for row in rows}


async def seed_demo(tenants: dict[str, uuid.UUID], base_url: str) -> list[str]:
    """Each demo tenant's tasks (with assignees, due dates, tags) and a comment on each,
    unless it has tasks already."""
    now = datetime.datetime.now(datetime.UTC)
    for slug, tasks in DEMO_TASKS.items():
        tenant_id = tenants[slug]
        if await write_client.run(Task.exists().where(Task.tenant_id == tenant_id)):
            continue
        projects = await ids_by(Project, "name", tenant_id)
        members = await ids_by(Member, "user_id", tenant_id)
        for project, title, status, priority, assignee, due_days, tags in tasks:
            due = None if due_days is None else now + datetime.timedelta(days=due_days)
            task = Task(
                tenant_id=tenant_id,
                project_id=projects[project],
                title=title,
                status=status,
                priority=priority,
                assignee_id=members.get(assignee) if assignee else None,
                due_at=due,
                tags=tags,
            )
            rows = await write_client.run(Task.insert(task).returning(Task.id))
            comment = Comment(
                tenant_id=tenant_id,
                task_id=rows[0]["id"],
                author_id=members[first_member(slug)],
                body=f"Kick-off note for: {title}",
            )
            await write_client.run(Comment.insert(comment))
    return []
