"""Projects: change, delete (with their tasks), list with cursors, task statistics; and
tenant B can do none of it to tenant A's projects."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from apps.projects import schemas
from apps.tasks.tables import Comment, Task
from refresh.db.clients import write_client
from tests.apps.tasks.support import (
    assert_error,
    error_fields,
    fresh_tenant,
    new_project,
    new_task,
    project_row,
    task_row,
)

ts = datetime.fromisoformat


async def test_patch_changes_only_the_fields_sent(client, tenant_a):
    response = await client.post(
        "/api/projects",
        json={"name": "Before", "description": "kept", "status": "active"},
        headers=tenant_a.headers,
    )
    project = response.json()
    changed = await client.patch(
        f"/api/projects/{project['id']}", json={"name": "After"}, headers=tenant_a.headers
    )
    assert changed.status_code == 200, changed.text
    schemas.Project.model_validate(changed.json())
    assert changed.json() == {
        **project,
        "name": "After",
        "updated_at": changed.json()["updated_at"],
    }
    assert ts(changed.json()["updated_at"]) > ts(project["updated_at"])

    archived = await client.patch(
        f"/api/projects/{project['id']}", json={"status": "archived"}, headers=tenant_a.headers
    )
    assert archived.json()["status"] == "archived" and archived.json()["name"] == "After"
    row = await project_row(project["id"])
    assert row["created_at"] == ts(project["created_at"])
    assert (row["name"], row["description"], row["status"]) == ("After", "kept", "archived")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"description": None}, "description"),
        ({"status": None}, "status"),
        ({"status": "deleted"}, "status"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"owner": "me"}, "owner"),
    ],
)
async def test_invalid_patch_is_422_and_changes_nothing(client, tenant_a, body, field):
    project = await new_project(client, tenant_a, "Stable")
    before = await project_row(project["id"])
    response = await client.patch(
        f"/api/projects/{project['id']}", json=body, headers=tenant_a.headers
    )
    assert_error(response, 422, "validation_error")
    assert error_fields(response) == {field}
    assert await project_row(project["id"]) == before


async def test_b_cannot_read_change_or_delete_a_project_of_a(client, tenant_a, tenant_b):
    project = await new_project(client, tenant_a, "A's secret")
    await new_task(client, tenant_a, project["id"], title="inside")
    before = await project_row(project["id"])
    tasks_before = await write_client.run(
        Task.count().where(Task.project_id == uuid.UUID(project["id"]))
    )
    nowhere = str(uuid.uuid4())
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/stats", None),
        ("PATCH", "", {"name": "B was here"}),
        ("PATCH", "", {}),
        ("DELETE", "", None),
    ]:
        for headers in (tenant_b.headers, {"Authorization": f"Bearer {tenant_b.admin_token}"}):
            response = await client.request(
                method, f"/api/projects/{project['id']}{suffix}", json=body, headers=headers
            )
            absent = await client.request(
                method, f"/api/projects/{nowhere}{suffix}", json=body, headers=headers
            )
            assert_error(response, 404, "not_found")
            assert response.json() == absent.json()
    assert await project_row(project["id"]) == before
    assert (
        await write_client.run(Task.count().where(Task.project_id == uuid.UUID(project["id"])))
        == tasks_before
    )
    listed = await client.get("/api/projects?limit=200", headers=tenant_b.headers)
    assert project["id"] not in {p["id"] for p in listed.json()["data"]}


async def test_deleting_a_project_deletes_its_tasks_and_their_comments(client, tenant_a):
    project = await new_project(client, tenant_a, "Doomed")
    keep = await new_project(client, tenant_a, "Kept")
    tasks = [await new_task(client, tenant_a, project["id"], title=f"t{i}") for i in range(3)]
    kept_task = await new_task(client, tenant_a, keep["id"], title="survivor")
    note = await client.post(
        f"/api/tasks/{tasks[0]['id']}/comments", json={"body": "bye"}, headers=tenant_a.headers
    )
    assert note.status_code == 201

    response = await client.delete(f"/api/projects/{project['id']}", headers=tenant_a.headers)
    assert response.status_code == 204 and response.content == b""
    assert await project_row(project["id"]) is None
    assert [await task_row(t["id"]) for t in tasks] == [None, None, None]
    assert not await write_client.run(
        Comment.exists().where(Comment.id == uuid.UUID(note.json()["id"]))
    )
    assert await task_row(kept_task["id"]) is not None
    for path in (f"/api/projects/{project['id']}", f"/api/tasks/{tasks[1]['id']}"):
        assert_error(await client.get(path, headers=tenant_a.headers), 404, "not_found")
    again = await client.delete(f"/api/projects/{project['id']}", headers=tenant_a.headers)
    assert_error(again, 404, "not_found")


async def test_list_walks_every_project_once_and_filters_status(client):
    tenant = await fresh_tenant("plist")
    made = [await new_project(client, tenant, f"P{i}") for i in range(8)]
    for p in made[:3]:
        await client.patch(
            f"/api/projects/{p['id']}", json={"status": "archived"}, headers=tenant.headers
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/projects", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        schemas.ProjectList.model_validate(response.json())
        seen += [p["id"] for p in response.json()["data"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    newest_first = sorted(made, key=lambda p: (ts(p["created_at"]), uuid.UUID(p["id"])))[::-1]
    assert seen == [p["id"] for p in newest_first]
    archived = await client.get("/api/projects?status=archived", headers=tenant.headers)
    assert {p["id"] for p in archived.json()["data"]} == {p["id"] for p in made[:3]}
    bad = await client.get("/api/projects", params={"cursor": "nope"}, headers=tenant.headers)
    assert_error(bad, 422)


async def test_stats_count_every_status(client):
    tenant = await fresh_tenant("stats")
    project = await new_project(client, tenant, "Counted")
    other = await new_project(client, tenant, "Not counted")
    statuses = ["todo"] * 4 + ["in_progress"] * 2 + ["done"] * 3
    for i, status in enumerate(statuses):
        await new_task(client, tenant, project["id"], title=f"t{i}", status=status)
    await new_task(client, tenant, other["id"], title="elsewhere", status="archived")

    response = await client.get(f"/api/projects/{project['id']}/stats", headers=tenant.headers)
    assert response.status_code == 200, response.text
    schemas.ProjectStats.model_validate(response.json())
    assert response.json() == {
        "project_id": project["id"],
        "total": 9,
        "by_status": {"todo": 4, "in_progress": 2, "done": 3, "archived": 0},
    }
    # the same counts, computed by the write client
    rows = await write_client.run(
        Task.select(Task.status).where(Task.project_id == uuid.UUID(project["id"]))
    )
    assert sorted(r["status"] for r in rows) == sorted(statuses)

    empty = await new_project(client, tenant, "Empty")
    response = await client.get(f"/api/projects/{empty['id']}/stats", headers=tenant.headers)
    assert response.json()["by_status"] == {"todo": 0, "in_progress": 0, "done": 0, "archived": 0}
    assert response.json()["total"] == 0
