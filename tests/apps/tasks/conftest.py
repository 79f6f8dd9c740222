"""A tenant of its own holding 60 tasks of varied attributes, for the list tests.

Its rows are written with the write client and described here in Python, so every
expected result is computed from this description, not from the API under test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.projects.tables import Project
from apps.tasks.tables import Task
from apps.tenants.operations import ensure_member
from refresh.db.clients import write_client
from tests.apps.tasks.support import fresh_tenant, member_id
from tests.conftest import TenantFixture

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STATUSES = ("todo", "in_progress", "done", "archived")
# (title, description): case variants, literal % _ and \, matches in either field.
TEXTS = (
    ("Alpha release", ""),
    ("prepare ALPHA notes", "for the team"),
    ("Beta", "contains alpha inside"),
    ("100% coverage", ""),
    ("50 percent", "half of it"),
    ("snake_case names", ""),
    ("snakeXcase names", "no underscore"),
    ("plain task", "nothing special"),
    ("back\\slash", ""),
    ("Gamma", "a_b and 10%"),
    ("Delta", "axb only"),
)
TAG_SETS = ([], ["red"], ["red", "blue"], ["blue"], ["green", "red"], ["green"], ["ops"])


@dataclass
class Seeded:
    tenant: TenantFixture
    projects: list[str]
    members: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def ids(self, predicate: Any = None) -> set[str]:
        return {r["id"] for r in self.rows if predicate is None or predicate(r)}


def task_spec(i: int, projects: list[str], members: list[str | None]) -> dict[str, Any]:
    title, description = TEXTS[i % len(TEXTS)]
    return {
        "id": str(uuid.uuid4()),
        "project_id": projects[i % 2],
        "title": title,
        "description": description,
        "status": STATUSES[i % 4],
        "priority": 1 + (i * 7) % 5,
        "assignee_id": members[i % 3],
        # every fifth has no due date; the others repeat, so sorting needs the id tiebreak
        "due_at": None if i % 5 == 0 else BASE + timedelta(days=(i * 3) % 11),
        "tags": TAG_SETS[i % len(TAG_SETS)],
        # three tasks share each creation time: the tiebreak matters here too
        "created_at": BASE - timedelta(minutes=i // 3),
    }


async def insert_tasks(tenant_id: Any, specs: list[dict[str, Any]]) -> None:
    await write_client.run(
        Task.insert(
            *[
                Task(
                    id=uuid.UUID(s["id"]),
                    tenant_id=tenant_id,
                    project_id=uuid.UUID(s["project_id"]),
                    title=s["title"],
                    description=s["description"],
                    status=s["status"],
                    priority=s["priority"],
                    assignee_id=uuid.UUID(s["assignee_id"]) if s["assignee_id"] else None,
                    due_at=s["due_at"],
                    tags=s["tags"],
                    created_at=s["created_at"],
                    updated_at=s["created_at"],
                )
                for s in specs
            ]
        )
    )


async def seed_projects(tenant: TenantFixture, names: tuple[str, ...]) -> list[str]:
    ids = [uuid.uuid4() for _ in names]
    await write_client.run(
        Project.insert(
            *[Project(id=i, tenant_id=tenant.id, name=n) for i, n in zip(ids, names, strict=True)]
        )
    )
    return [str(i) for i in ids]


@pytest.fixture(scope="module")
async def seeded(app: Any) -> Seeded:
    tenant = await fresh_tenant("list")
    for user, name in (("ann", "Ann Assignee"), ("ben", "Ben Assignee")):
        await ensure_member(tenant.id, user, f"{user}@list.test", name, "member")
    members = [await member_id(tenant, "ann"), await member_id(tenant, "ben")]
    projects = await seed_projects(tenant, ("Apollo", "Borealis"))
    specs = [task_spec(i, projects, [*members, None]) for i in range(60)]
    await insert_tasks(tenant.id, specs)
    return Seeded(tenant=tenant, projects=projects, members=members, rows=specs)
