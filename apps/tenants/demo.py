"""The demo data of `make run`: two tenants that must never see each other."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from apps.projects.tables import Project
from apps.rls.clients import write_client
from apps.rls.jwt_auth import issue_token
from apps.tasks.tables import Comment, Task
from apps.tenants.commands import create_tenant, ensure_member
from apps.tenants.lookup import find_tenant_id
from apps.tenants.tables import Member
from settings import get_settings

DEMO: dict[str, dict[str, Any]] = {
    "acme": {
        "name": "Acme Corp",
        "members": [
            ("alice", "alice@acme.test", "Alice Admin", "admin"),
            ("bob", "bob@acme.test", "Bob Builder", "member"),
        ],
        "projects": [
            ("Website relaunch", "New marketing site"),
            ("Mobile app", "iOS and Android client"),
        ],
        "tasks": [
            # (project index, title, status, priority, assignee, due in days, tags)
            (0, "Draft the sitemap", "done", 2, "alice", -3, ["content"]),
            (0, "Choose a CMS", "in_progress", 4, "bob", 5, ["tech", "decision"]),
            (0, "Write launch copy", "todo", 3, None, 12, ["content"]),
            (1, "Push notifications", "todo", 5, "bob", 2, ["tech"]),
            (1, "App store screenshots", "todo", 1, None, None, []),
        ],
    },
    "globex": {
        "name": "Globex Inc",
        "members": [
            ("gina", "gina@globex.test", "Gina Globex", "admin"),
            ("hank", "hank@globex.test", "Hank Scorpio", "member"),
        ],
        "projects": [
            ("Data warehouse", "Consolidate reporting"),
            ("Compliance audit", "SOC 2 evidence"),
        ],
        "tasks": [
            (0, "Model the sales facts", "in_progress", 4, "gina", 7, ["data"]),
            (0, "Nightly load job", "todo", 3, "hank", 14, ["data", "ops"]),
            (1, "Collect access reviews", "todo", 5, "hank", 1, ["audit"]),
            (1, "Vendor questionnaire", "done", 2, None, -10, ["audit"]),
        ],
    },
}


async def seed_demo() -> list[tuple[str, str]]:
    """Create what is missing; return (slug, a day-long admin token) per tenant."""
    tokens = []
    async with write_client.transaction():
        for slug, spec in DEMO.items():
            tenant_id = await find_tenant_id(slug) or await create_tenant(slug, str(spec["name"]))
            for user_id, email, name, role in spec["members"]:
                await ensure_member(tenant_id, user_id, email, name, role)
            if not await write_client.run(Project.exists().where(Project.tenant == tenant_id)):
                await seed_work(tenant_id, spec)
            first_user = spec["members"][0][0]
            tokens.append(
                (slug, issue_token(get_settings(), tenant_id, first_user, "admin", 24 * 3600))
            )
    return tokens


#: Demo admin logins (username, password, tenant slug or None for an operator). Demo
#: data for a developer's machine: never run `piccolo tenants demo` on a real server.
DEMO_LOGINS = (
    ("operator", "operator-demo", None),
    ("acme-staff", "acme-demo", "acme"),
    ("globex-staff", "globex-demo", "globex"),
)


async def seed_admin_logins() -> list[tuple[str, str, str | None]]:
    """An operator and one staff login per demo tenant (idempotent)."""
    from piccolo.apps.user.tables import BaseUser

    from apps.admin.staff import create_operator, create_staff

    for username, password, slug in DEMO_LOGINS:
        if await write_client.run(BaseUser.exists().where(BaseUser.username == username)):
            continue
        if slug is None:
            await create_operator(username, password)
        else:
            await create_staff(username, password, await find_tenant_id(slug))
    return list(DEMO_LOGINS)


async def seed_work(tenant_id: uuid.UUID, spec: dict[str, Any]) -> None:
    """Projects, tasks (with assignees, due dates, tags) and a comment on each task."""
    members = {
        row["user_id"]: row["id"]
        for row in await write_client.run(
            Member.select(Member.id, Member.user_id).where(Member.tenant == tenant_id)
        )
    }
    project_ids = []
    for name, description in spec["projects"]:
        rows = await write_client.run(
            Project.insert(Project(tenant=tenant_id, name=name, description=description)).returning(
                Project.id
            )
        )
        project_ids.append(rows[0]["id"])
    now = datetime.datetime.now(datetime.UTC)
    first_member = members[spec["members"][0][0]]
    for project, title, status, priority, assignee, due_days, tags in spec["tasks"]:
        due = None if due_days is None else now + datetime.timedelta(days=due_days)
        rows = await write_client.run(
            Task.insert(
                Task(
                    tenant=tenant_id,
                    project=project_ids[project],
                    title=title,
                    status=status,
                    priority=priority,
                    assignee=members.get(assignee),
                    due_at=due,
                    tags=tags,
                )
            ).returning(Task.id)
        )
        await write_client.run(
            Comment.insert(
                Comment(
                    tenant=tenant_id,
                    task=rows[0]["id"],
                    author=first_member,
                    body=f"Kick-off note for: {title}",
                )
            )
        )
