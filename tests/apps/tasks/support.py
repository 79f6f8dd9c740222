"""Helpers shared by the domain API tests: create rows through the API, read them back
through the write client (which bypasses RLS) to check what the database really holds."""

from __future__ import annotations

import uuid
from typing import Any

from apps.projects.tables import Project
from apps.tasks.tables import Comment, Task
from apps.tenants.tables import Member
from refresh.db.clients import write_client
from tests.conftest import TenantFixture, make_tenant


async def fresh_tenant(prefix: str = "t") -> TenantFixture:
    """A tenant of its own (the database is shared by the whole session)."""
    return await make_tenant(f"{prefix}-{uuid.uuid4().hex[:10]}")


async def new_project(client: Any, tenant: TenantFixture, name: str = "Project") -> dict[str, Any]:
    response = await client.post("/api/projects", json={"name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


async def new_task(
    client: Any, tenant: TenantFixture, project_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"project_id": project_id, "title": "A task", **fields}
    response = await client.post("/api/tasks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def member_id(tenant: TenantFixture, user_id: str) -> str:
    row = await write_client.run(
        Member.select(Member.id)
        .where((Member.tenant_id == tenant.id) & (Member.user_id == user_id))
        .first()
    )
    return str(row["id"])


async def task_row(task_id: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await write_client.run(
        Task.select().where(Task.id == uuid.UUID(task_id)).first()
    )
    return row


async def project_row(project_id: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await write_client.run(
        Project.select().where(Project.id == uuid.UUID(project_id)).first()
    )
    return row


async def comment_row(comment_id: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await write_client.run(
        Comment.select().where(Comment.id == uuid.UUID(comment_id)).first()
    )
    return row


async def table_counts() -> dict[str, int]:
    """Rows per table, all tenants: a failed request must leave every count unchanged."""
    return {
        "project": await write_client.run(Project.count()),
        "task": await write_client.run(Task.count()),
        "comment": await write_client.run(Comment.count()),
        "member": await write_client.run(Member.count()),
    }


async def walk(client: Any, tenant: TenantFixture, params: dict[str, Any], limit: int) -> list[str]:
    """Every page of GET /api/tasks, in order, following next_cursor; no id may come twice."""
    ids: list[str] = []
    cursor = None
    for _ in range(1000):
        page = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/tasks", params=page, headers=tenant.headers)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        assert len(body["data"]) <= limit
        ids += [task["id"] for task in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids)), "an id came twice"
    return ids


def expected_order(rows: list[dict[str, Any]], sort: str, order: str) -> list[str]:
    """The sort key, then the id, both in the requested direction; no due date is last."""
    desc = order == "desc"
    if sort == "due_at":
        dated = sorted(
            (r for r in rows if r["due_at"] is not None),
            key=lambda r: (r["due_at"], uuid.UUID(r["id"])),
            reverse=desc,
        )
        undated = sorted(
            (r for r in rows if r["due_at"] is None),
            key=lambda r: uuid.UUID(r["id"]),
            reverse=desc,
        )
        return [r["id"] for r in dated + undated]
    ordered = sorted(rows, key=lambda r: (r[sort], uuid.UUID(r["id"])), reverse=desc)
    return [r["id"] for r in ordered]


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error shape of the HTTP boundary: JSON {"error": {"code", "message"}}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def error_fields(response: Any) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}
