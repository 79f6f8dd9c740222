"""The projects API from two tenants' side: what A does, B never sees or changes."""

from __future__ import annotations

import uuid

from apps.projects.tables import Project
from refresh.db.clients import write_client


async def create(client, tenant, name: str, **extra):
    response = await client.post(
        "/api/projects", json={"name": name, **extra}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_and_read_back(client, tenant_a):
    project = await create(client, tenant_a, "Roadmap", description="Q1 plans")
    assert project["name"] == "Roadmap"
    assert project["status"] == "active"
    assert "tenant_id" not in project and "tenant" not in project

    got = await client.get(f"/api/projects/{project['id']}", headers=tenant_a.headers)
    assert got.status_code == 200
    assert got.json() == project

    listed = await client.get("/api/projects", headers=tenant_a.headers)
    assert project["id"] in [p["id"] for p in listed.json()["data"]]


async def test_a_project_is_invisible_to_b(client, tenant_a, tenant_b):
    project = await create(client, tenant_a, "A only")

    b_list = await client.get("/api/projects", headers=tenant_b.headers)
    assert b_list.status_code == 200
    assert project["id"] not in [p["id"] for p in b_list.json()["data"]]

    b_get = await client.get(f"/api/projects/{project['id']}", headers=tenant_b.headers)
    # 404, not 403: B cannot even learn that the id exists.
    assert b_get.status_code == 404
    assert (
        b_get.json()
        == (await client.get(f"/api/projects/{uuid.uuid4()}", headers=tenant_b.headers)).json()
    )


async def test_list_holds_only_own_rows(client, tenant_a, tenant_b):
    await create(client, tenant_a, "A1")
    await create(client, tenant_b, "B1")
    for tenant in (tenant_a, tenant_b):
        ids = {
            p["id"]
            for p in (await client.get("/api/projects?limit=200", headers=tenant.headers)).json()[
                "data"
            ]
        }
        owned = await write_client.run(
            Project.select(Project.id).where(Project.tenant_id == tenant.id)
        )
        assert ids == {str(r["id"]) for r in owned}


async def test_b_cannot_create_a_row_in_a_by_naming_its_tenant(client, tenant_a, tenant_b):
    before = await write_client.run(Project.count().where(Project.tenant_id == tenant_a.id))
    for field in ("tenant_id", "tenant"):
        response = await client.post(
            "/api/projects",
            json={"name": "smuggled", field: str(tenant_a.id)},
            headers=tenant_b.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == field
    after = await write_client.run(Project.count().where(Project.tenant_id == tenant_a.id))
    assert after == before


async def test_validation_errors_are_json_and_write_nothing(client, tenant_a):
    before = await write_client.run(Project.count().where(Project.tenant_id == tenant_a.id))
    cases = [
        ({"name": ""}, 422),
        ({"name": "x" * 201}, 422),
        ({"name": "ok", "status": "deleted"}, 422),
        ({"description": "no name"}, 422),
        ([1, 2], 422),
    ]
    for body, status in cases:
        response = await client.post("/api/projects", json=body, headers=tenant_a.headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    bad_json = await client.post(
        "/api/projects",
        content=b"{nope",
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 400
    wrong_type = await client.post(
        "/api/projects",
        content=b"name=x",
        headers={**tenant_a.headers, "content-type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    for limit in ("0", "201", "-1", "abc"):
        response = await client.get(f"/api/projects?limit={limit}", headers=tenant_a.headers)
        assert response.status_code == 422
    assert await write_client.run(Project.count().where(Project.tenant_id == tenant_a.id)) == before


async def test_malformed_id_is_404(client, tenant_a):
    response = await client.get("/api/projects/not-a-uuid", headers=tenant_a.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_updated_at_is_maintained_by_the_database(client, tenant_a):
    project = await create(client, tenant_a, "Touch me")
    await write_client.run(
        Project.update({Project.name: "Touched"}).where(Project.id == uuid.UUID(project["id"]))
    )
    row = await write_client.run(
        Project.select(Project.created_at, Project.updated_at)
        .where(Project.id == uuid.UUID(project["id"]))
        .first()
    )
    assert row["updated_at"] > row["created_at"]
