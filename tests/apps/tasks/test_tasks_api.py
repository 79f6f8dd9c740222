"""The tasks API: create, read, change, delete; and what tenant B can never do to A."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from apps.tasks import schemas
from tests.apps.tasks.support import (
    assert_error,
    member_id,
    new_project,
    new_task,
    table_counts,
    task_row,
)

DUE = "2026-12-01T09:00:00+00:00"
ts = datetime.fromisoformat


async def full_task(client, tenant, **fields):
    project = await new_project(client, tenant, "Tasks home")
    assignee = await member_id(tenant, f"{tenant.slug}-member")
    return await new_task(
        client,
        tenant,
        project["id"],
        title="Write the report",
        description="four pages",
        status="in_progress",
        priority=4,
        assignee_id=assignee,
        due_at=DUE,
        tags=["docs", "q1"],
        **fields,
    )


async def test_create_then_read_back(client, tenant_a):
    task = await full_task(client, tenant_a)
    schemas.Task.model_validate(task)
    assert {k: task[k] for k in ("title", "description", "status", "priority", "tags")} == {
        "title": "Write the report",
        "description": "four pages",
        "status": "in_progress",
        "priority": 4,
        "tags": ["docs", "q1"],
    }
    assert task["project_name"] == "Tasks home"
    assert task["assignee_id"] == await member_id(tenant_a, "tenant-a-member")
    assert task["assignee_name"] == "Member"
    assert task["due_at"] == DUE
    assert ts(task["updated_at"]) >= ts(task["created_at"])
    assert "tenant_id" not in task

    got = await client.get(f"/api/tasks/{task['id']}", headers=tenant_a.headers)
    assert got.status_code == 200
    assert got.json() == task
    row = await task_row(task["id"])
    assert row["tenant_id"] == tenant_a.id


async def test_defaults(client, tenant_a):
    project = await new_project(client, tenant_a)
    task = await new_task(client, tenant_a, project["id"], title="Bare")
    assert {k: task[k] for k in ("description", "status", "priority", "assignee_id", "due_at")} == {
        "description": "",
        "status": "todo",
        "priority": 3,
        "assignee_id": None,
        "due_at": None,
    }
    assert task["tags"] == [] and task["assignee_name"] is None


async def test_b_never_sees_a_task_of_a(client, tenant_a, tenant_b):
    task = await full_task(client, tenant_a)
    listed = await client.get("/api/tasks?limit=200", headers=tenant_b.headers)
    assert task["id"] not in {t["id"] for t in listed.json()["data"]}
    by_project = await client.get(
        "/api/tasks", params={"project": task["project_id"]}, headers=tenant_b.headers
    )
    assert by_project.status_code == 200 and by_project.json()["data"] == []

    response = await client.get(f"/api/tasks/{task['id']}", headers=tenant_b.headers)
    nowhere = await client.get(f"/api/tasks/{uuid.uuid4()}", headers=tenant_b.headers)
    assert_error(response, 404, "not_found")
    assert response.json() == nowhere.json()


async def test_b_cannot_change_or_delete_a_task_of_a(client, tenant_a, tenant_b):
    task = await full_task(client, tenant_a)
    before = await task_row(task["id"])
    attempts = [
        ("PATCH", f"/api/tasks/{task['id']}", {"title": "taken over"}),
        ("PATCH", f"/api/tasks/{task['id']}", {}),
        ("DELETE", f"/api/tasks/{task['id']}", None),
        ("POST", "/api/tasks/bulk-update", {"ids": [task["id"]], "set": {"status": "done"}}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=tenant_b.headers)
        assert_error(response, 404, "not_found")
        assert await task_row(task["id"]) == before, (method, path, body)


async def other_tenant_ids(client, tenant_a):
    project = await new_project(client, tenant_a, "A's")
    return {
        "project_id": project["id"],
        "assignee_id": await member_id(tenant_a, "tenant-a-member"),
    }


@pytest.mark.parametrize("field", ["project_id", "assignee_id"])
async def test_b_cannot_create_a_task_pointing_at_a(client, tenant_a, tenant_b, field):
    a_ids = await other_tenant_ids(client, tenant_a)
    b_project = await new_project(client, tenant_b, "B's")
    before = await table_counts()
    responses = []
    for target in (a_ids[field], str(uuid.uuid4())):
        body = {"project_id": b_project["id"], "title": "pointer", field: target}
        responses.append(await client.post("/api/tasks", json=body, headers=tenant_b.headers))
    for response in responses:
        assert_error(response, 422)
    # The same answer whether A's row exists or no row exists at all.
    assert responses[0].json() == responses[1].json()
    assert await table_counts() == before


@pytest.mark.parametrize("field", ["project_id", "assignee_id"])
async def test_b_cannot_point_its_task_at_a(client, tenant_a, tenant_b, field):
    a_ids = await other_tenant_ids(client, tenant_a)
    b_project = await new_project(client, tenant_b, "B's")
    b_task = await new_task(client, tenant_b, b_project["id"], title="mine")
    before = await task_row(b_task["id"])
    for path, body_of in (
        (f"/api/tasks/{b_task['id']}", lambda value: {field: value}),
        ("/api/tasks/bulk-update", lambda value: {"ids": [b_task["id"]], "set": {field: value}}),
    ):
        a_response = await client.request(
            "PATCH" if "bulk" not in path else "POST",
            path,
            json=body_of(a_ids[field]),
            headers=tenant_b.headers,
        )
        nowhere = await client.request(
            "PATCH" if "bulk" not in path else "POST",
            path,
            json=body_of(str(uuid.uuid4())),
            headers=tenant_b.headers,
        )
        assert_error(a_response, 422)
        assert a_response.json() == nowhere.json()
        assert await task_row(b_task["id"]) == before


async def test_patch_changes_only_the_fields_sent(client, tenant_a):
    task = await full_task(client, tenant_a)
    response = await client.patch(
        f"/api/tasks/{task['id']}",
        json={"title": "Renamed", "priority": 1},
        headers=tenant_a.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert ts(changed["updated_at"]) > ts(task["updated_at"])
    assert changed == {
        **task,
        "title": "Renamed",
        "priority": 1,
        "updated_at": changed["updated_at"],
    }
    assert (
        await client.get(f"/api/tasks/{task['id']}", headers=tenant_a.headers)
    ).json() == changed


async def test_patch_moves_a_task_to_another_project(client, tenant_a):
    task = await full_task(client, tenant_a)
    other = await new_project(client, tenant_a, "Elsewhere")
    response = await client.patch(
        f"/api/tasks/{task['id']}", json={"project_id": other["id"]}, headers=tenant_a.headers
    )
    assert (response.json()["project_id"], response.json()["project_name"]) == (
        other["id"],
        "Elsewhere",
    )


async def test_patch_sets_assignee_and_due_date_to_null(client, tenant_a):
    task = await full_task(client, tenant_a)
    response = await client.patch(
        f"/api/tasks/{task['id']}",
        json={"assignee_id": None, "due_at": None},
        headers=tenant_a.headers,
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["assignee_id"], got["assignee_name"], got["due_at"]) == (None, None, None)
    assert got["title"] == task["title"] and got["tags"] == task["tags"]
    row = await task_row(task["id"])
    assert row["assignee_id"] is None and row["due_at"] is None


@pytest.mark.parametrize(
    "field", ["title", "description", "status", "priority", "project_id", "tags"]
)
async def test_patch_null_on_a_required_field_is_422(client, tenant_a, field):
    task = await full_task(client, tenant_a)
    before = await task_row(task["id"])
    response = await client.patch(
        f"/api/tasks/{task['id']}", json={field: None}, headers=tenant_a.headers
    )
    assert_error(response, 422, "validation_error")
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert await task_row(task["id"]) == before


async def test_an_empty_patch_changes_nothing(client, tenant_a):
    task = await full_task(client, tenant_a)
    response = await client.patch(f"/api/tasks/{task['id']}", json={}, headers=tenant_a.headers)
    assert response.status_code == 200
    assert response.json() == task


async def test_bulk_update_changes_every_task_and_updated_at(client, tenant_a):
    tasks = [await full_task(client, tenant_a) for _ in range(3)]
    ids = [t["id"] for t in tasks]
    response = await client.post(
        "/api/tasks/bulk-update",
        json={"ids": [*ids, ids[0]], "set": {"status": "done", "assignee_id": None}},
        headers=tenant_a.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"updated": 3}
    for task in tasks:
        got = (await client.get(f"/api/tasks/{task['id']}", headers=tenant_a.headers)).json()
        assert ts(got["updated_at"]) > ts(task["updated_at"])
        assert got == {
            **task,
            "status": "done",
            "assignee_id": None,
            "assignee_name": None,
            "updated_at": got["updated_at"],
        }


async def test_bulk_update_is_all_or_nothing(client, tenant_a, tenant_b):
    a_tasks = [await full_task(client, tenant_a) for _ in range(3)]
    b_task = await full_task(client, tenant_b)
    before = {t["id"]: await task_row(t["id"]) for t in [*a_tasks, b_task]}
    for intruder in (b_task["id"], str(uuid.uuid4())):
        response = await client.post(
            "/api/tasks/bulk-update",
            json={"ids": [*(t["id"] for t in a_tasks), intruder], "set": {"priority": 5}},
            headers=tenant_a.headers,
        )
        assert_error(response, 404, "not_found")
        assert {i: await task_row(i) for i in before} == before


async def test_bulk_update_needs_a_change(client, tenant_a):
    task = await full_task(client, tenant_a)
    for body in ({"ids": [task["id"]], "set": {}}, {"ids": [], "set": {"priority": 2}}):
        response = await client.post("/api/tasks/bulk-update", json=body, headers=tenant_a.headers)
        assert_error(response, 422)


async def test_updated_at_moves_on_every_write_and_created_at_never(client, tenant_a):
    task = await full_task(client, tenant_a)
    stamps = [(ts(task["created_at"]), ts(task["updated_at"]))]
    for method, path, body in [
        ("PATCH", f"/api/tasks/{task['id']}", {"title": "one"}),
        ("POST", "/api/tasks/bulk-update", {"ids": [task["id"]], "set": {"title": "two"}}),
        ("PATCH", f"/api/tasks/{task['id']}", {"due_at": None}),
    ]:
        response = await client.request(method, path, json=body, headers=tenant_a.headers)
        assert response.status_code == 200, response.text
        row = await task_row(task["id"])
        stamps.append((row["created_at"], row["updated_at"]))
    assert {c for c, _ in stamps} == {ts(task["created_at"])}
    updated = [u for _, u in stamps]
    assert updated == sorted(updated) and len(set(updated)) == len(updated)


async def test_delete_then_get_is_404(client, tenant_a):
    task = await full_task(client, tenant_a)
    response = await client.delete(f"/api/tasks/{task['id']}", headers=tenant_a.headers)
    assert response.status_code == 204 and response.content == b""
    assert await task_row(task["id"]) is None
    for method in ("GET", "DELETE", "PATCH"):
        again = await client.request(
            method,
            f"/api/tasks/{task['id']}",
            json={"title": "x"} if method == "PATCH" else None,
            headers=tenant_a.headers,
        )
        assert_error(again, 404, "not_found")
