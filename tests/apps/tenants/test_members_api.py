"""The caller's tenant and its members: every member reads, only tenant admins write,
and another tenant's members do not exist (404) for the caller."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from apps.tenants import schemas
from apps.tenants.tables import Member
from refresh.db.clients import write_client
from tests.apps.tasks.support import (
    assert_error,
    error_fields,
    fresh_tenant,
    member_id,
    new_project,
    new_task,
    task_row,
)


def admin(tenant):
    return {"Authorization": f"Bearer {tenant.admin_token}"}


async def member_row(mid):
    return await write_client.run(Member.select().where(Member.id == uuid.UUID(mid)).first())


def new_member_body(**extra):
    user = f"u-{uuid.uuid4().hex[:10]}"
    return {"user_id": user, "email": f"{user}@example.test", "display_name": "New One", **extra}


async def add_member(client, tenant, **extra):
    response = await client.post(
        "/api/members", json=new_member_body(**extra), headers=admin(tenant)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_tenant_is_the_callers(client, tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        for headers in (tenant.headers, admin(tenant)):
            response = await client.get("/api/tenant", headers=headers)
            assert response.status_code == 200
            schemas.Tenant.model_validate(response.json())
            assert (response.json()["id"], response.json()["slug"]) == (str(tenant.id), tenant.slug)


async def test_any_member_lists_exactly_its_tenants_members(client, tenant_a, tenant_b):
    await add_member(client, tenant_a, role="admin")
    for tenant in (tenant_a, tenant_b):
        rows = await write_client.run(
            Member.select(Member.id, Member.role).where(Member.tenant_id == tenant.id)
        )
        response = await client.get("/api/members", headers=tenant.headers)
        assert response.status_code == 200
        schemas.MemberList.model_validate(response.json())
        assert {m["id"] for m in response.json()["data"]} == {str(r["id"]) for r in rows}
        admins = await client.get("/api/members?role=admin", headers=tenant.headers)
        assert {m["id"] for m in admins.json()["data"]} == {
            str(r["id"]) for r in rows if r["role"] == "admin"
        }


async def test_get_one_member(client, tenant_a, tenant_b):
    mid = await member_id(tenant_a, "tenant-a-member")
    response = await client.get(f"/api/members/{mid}", headers=tenant_a.headers)
    assert response.status_code == 200
    schemas.Member.model_validate(response.json())
    assert response.json()["user_id"] == "tenant-a-member"
    for headers in (tenant_b.headers, admin(tenant_b)):
        hidden = await client.get(f"/api/members/{mid}", headers=headers)
        absent = await client.get(f"/api/members/{uuid.uuid4()}", headers=headers)
        assert_error(hidden, 404, "not_found")
        assert hidden.json() == absent.json()


async def test_admin_creates_updates_and_deletes(client, tenant_a):
    created = await add_member(client, tenant_a)
    row = await member_row(created["id"])
    assert row["tenant_id"] == tenant_a.id and row["role"] == "member"

    changed = await client.patch(
        f"/api/members/{created['id']}", json={"role": "admin"}, headers=admin(tenant_a)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        **created,
        "role": "admin",
        "updated_at": changed.json()["updated_at"],
    }
    ts = datetime.fromisoformat
    assert ts(changed.json()["updated_at"]) > ts(created["updated_at"])

    deleted = await client.delete(f"/api/members/{created['id']}", headers=admin(tenant_a))
    assert deleted.status_code == 204
    assert await member_row(created["id"]) is None
    gone = await client.get(f"/api/members/{created['id']}", headers=tenant_a.headers)
    assert_error(gone, 404, "not_found")


async def test_a_member_cannot_write_members(client, tenant_a):
    target = await add_member(client, tenant_a)
    before = await member_row(target["id"])
    count = await write_client.run(Member.count().where(Member.tenant_id == tenant_a.id))
    created = await client.post("/api/members", json=new_member_body(), headers=tenant_a.headers)
    assert_error(created, 403, "forbidden")
    for method, body in (("PATCH", {"display_name": "Hacked"}), ("DELETE", None)):
        response = await client.request(
            method, f"/api/members/{target['id']}", json=body, headers=tenant_a.headers
        )
        assert_error(response, 403, "forbidden")
    # not even themselves, e.g. to become admin
    me = await member_id(tenant_a, "tenant-a-member")
    promote = await client.patch(
        f"/api/members/{me}", json={"role": "admin"}, headers=tenant_a.headers
    )
    assert_error(promote, 403, "forbidden")
    assert (await member_row(me))["role"] == "member"
    assert await member_row(target["id"]) == before
    assert await write_client.run(Member.count().where(Member.tenant_id == tenant_a.id)) == count


async def test_another_tenants_member_is_404_for_members_and_admins(client, tenant_a, tenant_b):
    target = await add_member(client, tenant_a)
    before = await member_row(target["id"])
    for headers in (tenant_b.headers, admin(tenant_b)):
        for method, body in (("PATCH", {"display_name": "Hacked"}), ("DELETE", None)):
            response = await client.request(
                method, f"/api/members/{target['id']}", json=body, headers=headers
            )
            absent = await client.request(
                method, f"/api/members/{uuid.uuid4()}", json=body, headers=headers
            )
            assert_error(response, 404, "not_found")
            assert response.json() == absent.json()
    assert await member_row(target["id"]) == before


async def test_user_ids_are_unique_per_tenant_only(client, tenant_a):
    body = new_member_body()
    first = await client.post("/api/members", json=body, headers=admin(tenant_a))
    assert first.status_code == 201
    count = await write_client.run(Member.count().where(Member.tenant_id == tenant_a.id))
    again = await client.post(
        "/api/members", json={**body, "email": "other@example.test"}, headers=admin(tenant_a)
    )
    assert_error(again, 409, "conflict")
    assert await write_client.run(Member.count().where(Member.tenant_id == tenant_a.id)) == count

    other = await fresh_tenant("dup")
    elsewhere = await client.post("/api/members", json=body, headers=admin(other))
    assert elsewhere.status_code == 201, elsewhere.text
    assert elsewhere.json()["user_id"] == body["user_id"]
    assert elsewhere.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_member_body(email="not-an-email"), "email"),
        (new_member_body(role="owner"), "role"),
        (new_member_body(display_name=""), "display_name"),
        (new_member_body(tenant_id=str(uuid.uuid4())), "tenant_id"),
        ({"email": "a@b.test", "display_name": "No user"}, "user_id"),
    ],
)
async def test_invalid_member_is_422(client, tenant_a, body, field):
    count = await write_client.run(Member.count())
    response = await client.post("/api/members", json=body, headers=admin(tenant_a))
    assert_error(response, 422, "validation_error")
    assert error_fields(response) == {field}
    assert await write_client.run(Member.count()) == count


async def test_deleting_an_assignee_unassigns_the_tasks(client, tenant_a):
    person = await add_member(client, tenant_a)
    project = await new_project(client, tenant_a)
    task = await new_task(client, tenant_a, project["id"], assignee_id=person["id"])
    assert task["assignee_name"] == "New One"
    deleted = await client.delete(f"/api/members/{person['id']}", headers=admin(tenant_a))
    assert deleted.status_code == 204
    row = await task_row(task["id"])
    assert row is not None and row["assignee_id"] is None
