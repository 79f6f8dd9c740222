"""The OpenAPI document: public, valid 3.1, complete (every route of the /api app with its
method), and true (real responses validate against the documented models)."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

import app as application
from apps.projects import schemas as project_schemas
from apps.tasks import schemas as task_schemas
from apps.tenants import schemas as tenant_schemas
from refresh.web.route_index import RouteIndex
from tests.apps.tasks.support import new_project, new_task


@pytest.fixture(scope="module")
async def document(client):
    response = await client.get("/api/openapi.json")  # no token
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def api_mount():
    mounts = [r for r in application.app.routes if isinstance(r, Mount) and r.path == "/api"]
    assert len(mounts) == 1
    return mounts[0]


async def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_every_endpoint_is_documented_with_bearer_security(document):
    assert application.ENDPOINTS
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    for endpoint in application.ENDPOINTS:
        path = "/api" + endpoint.path
        operation = document["paths"][path][endpoint.method.lower()]
        assert operation["security"] == [{"bearer": []}], path
        assert str(endpoint.status) in operation["responses"]
        assert "401" in operation["responses"]
        if endpoint.body is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}
            assert endpoint.body.__name__ in document["components"]["schemas"]
        else:
            assert "requestBody" not in operation, path
        if endpoint.response is not None:
            content = operation["responses"][str(endpoint.status)]["content"]
            assert content["application/json"]["schema"]["$ref"].endswith(
                "/" + endpoint.response.__name__
            )
        declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", endpoint.path))
        if endpoint.query is not None:
            documented = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
            assert documented == set(endpoint.query.model_fields)


async def test_every_route_of_the_api_app_is_documented(document):
    # the API's own routes sit in one RouteIndex (refresh/web/route_index.py)
    listed = [
        route
        for entry in api_mount().routes
        for route in (entry.routes if isinstance(entry, RouteIndex) else [entry])
    ]
    routes = [r for r in listed if isinstance(r, Route)]
    served = {
        ("/api" + r.path, method.lower())
        for r in routes
        if not r.path.startswith("/_test/")  # routes the test app adds
        for method in r.methods or ()
        if method != "HEAD"
    }
    assert len(served) >= 20
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served <= documented
    # and nothing is documented that is not served
    assert documented == served


async def test_operations_are_unique_and_tagged(document):
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for ops in document["paths"].values():
        for op in ops.values():
            assert op["tags"] and op["summary"]


async def test_docs_page_renders_the_document(client):
    response = await client.get("/api/docs")  # no token
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script src="/api/docs/init.js">' in response.text  # which loads the document


async def test_docs_page_loads_nothing_from_another_host(client):
    page = (await client.get("/api/docs")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/api/docs/") for s in sources), sources
    script = await client.get("/api/docs/init.js")
    assert "/api/openapi.json" in script.text
    for source in sources:
        served = await client.get(source)  # no token: the docs are public
        assert served.status_code == 200, source
        assert served.content, source
    assert "http" not in script.text  # no absolute URL anywhere


async def test_docs_serve_only_their_own_files(client):
    for name in ("swagger-editor-bundle.js", "LICENSE", "index.css", "nothing"):
        response = await client.get(f"/api/docs/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] == "not_found"
    # A path out of the folder is no docs route at all: the authenticated /api refuses it.
    response = await client.get("/api/docs/..%2F__init__.py")
    assert response.status_code == 401


async def test_real_responses_match_the_documented_models(client, tenant_a):
    project = await new_project(client, tenant_a, "Documented")
    task = await new_task(
        client, tenant_a, project["id"], tags=["x"], due_at="2026-05-01T00:00:00Z"
    )
    comment = await client.post(
        f"/api/tasks/{task['id']}/comments", json={"body": "ok"}, headers=tenant_a.headers
    )
    checks = [
        ("/api/tenant", tenant_schemas.Tenant),
        ("/api/members", tenant_schemas.MemberList),
        ("/api/projects", project_schemas.ProjectList),
        (f"/api/projects/{project['id']}", project_schemas.Project),
        (f"/api/projects/{project['id']}/stats", project_schemas.ProjectStats),
        ("/api/tasks", task_schemas.TaskList),
        (f"/api/tasks/{task['id']}", task_schemas.Task),
        (f"/api/tasks/{task['id']}/comments", task_schemas.CommentList),
    ]
    for path, model in checks:
        response = await client.get(path, headers=tenant_a.headers)
        assert response.status_code == 200, path
        parsed = model.model_validate(response.json())
        # nothing undocumented either: the model holds every field the response has
        assert parsed.model_dump(mode="json").keys() == response.json().keys(), path
    task_schemas.Comment.model_validate(comment.json())
    assert set(comment.json()) == set(task_schemas.Comment.model_fields)
    assert set(task) == set(task_schemas.Task.model_fields)
