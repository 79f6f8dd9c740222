"""RouteIndex (refresh/web/route_index.py) answers every request exactly as Starlette's
router answers it from the plain list of the same routes: the same route, 405, 404, the
trailing-slash redirect; the matched route is the inner one (the request log's
template). One difference on purpose: a 405's Allow header names every method the path
is served with, where Starlette names the first route's only. Fails if Starlette changes
how its router uses a route."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, NoMatchFound, Route

from app import ENDPOINTS
from refresh.web.route_index import RouteIndex
from tests.apps.tasks.support import assert_error, new_project, new_task

METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE")
ID = str(uuid.uuid4())


def answering_routes() -> list[Route]:
    """The API's routes, each answering with its own method and template."""

    async def answer(request: Request) -> Response:
        route = request.scope["route"]
        body = {"route": route.path, "params": request.path_params}
        return JSONResponse(body, headers={"x-route-class": type(route).__name__})

    return [Route(e.path, answer, methods=[e.method]) for e in ENDPOINTS]


def concrete(template: str) -> str:
    return "/".join(ID if part.startswith("{") else part for part in template.split("/"))


def paths() -> list[str]:
    templates = {e.path for e in ENDPOINTS}
    concrete_paths = {concrete(t) for t in templates}
    return sorted(
        {
            *concrete_paths,
            *(p + "/" for p in concrete_paths),  # the redirect to the path without it
            "/",
            "",
            "/unknown",
            "/tasks/" + ID + "/unknown",
            "/tasks//comments",
            "//tasks",
            "/Tasks",
        }
    )


def client_of(routes: list[Any]) -> httpx.AsyncClient:
    app = Starlette(routes=[Mount("/api", app=Starlette(routes=routes))])
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def answer_of(response: httpx.Response) -> tuple[Any, ...]:
    """The whole answer but its Allow header (compared on its own)."""
    is_json = response.headers.get("content-type") == "application/json" and response.content
    body = response.json() if is_json else None  # HEAD: the headers only
    return (
        response.status_code,
        response.headers.get("location"),
        response.headers.get("x-route-class"),
        body,
        response.text if body is None else None,
    )


def methods_of(allow: str | None) -> set[str]:
    return {m.strip() for m in allow.split(",")} if allow else set()


async def test_answers_every_request_as_the_plain_list_of_routes() -> None:
    plain, indexed = client_of(answering_routes()), client_of([RouteIndex(answering_routes())])
    statuses = set()
    async with plain, indexed:
        for path in paths():
            url = "/api" + path
            answers = {m: await plain.request(m, url) for m in METHODS}
            # what a client may send to this path: each method the plain list routes to a
            # route (HEAD with GET), whatever route answers
            served = {m for m, answer in answers.items() if answer.status_code == 200}
            for method, expected in answers.items():
                answer = await indexed.request(method, url)
                assert answer_of(answer) == answer_of(expected), (method, url)
                if expected.status_code == 405:
                    assert methods_of(answer.headers.get("allow")) == served, (method, url)
                    # the plain list names a subset: the first route's methods only
                    assert methods_of(expected.headers.get("allow")) <= served
                else:
                    assert "allow" not in answer.headers
                statuses.add(expected.status_code)
    # Each kind of answer was compared: a route, a 405, a 404 and a redirect.
    assert {200, 404, 405, 307} <= statuses


async def test_a_405_names_every_method_of_the_path() -> None:
    async with client_of([RouteIndex(answering_routes())]) as client:
        response = await client.put(f"/api/tasks/{ID}")
    assert response.status_code == 405
    # GET, PATCH and DELETE /tasks/{id} are three routes
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"


async def test_the_matched_route_is_the_inner_one_for_the_request_log() -> None:
    async with client_of([RouteIndex(answering_routes())]) as client:
        response = await client.get(f"/api/tasks/{ID}")
    assert response.headers["x-route-class"] == "Route"
    assert response.json() == {"route": "/tasks/{id}", "params": {"id": ID}}


def test_urls_are_built_from_the_inner_routes() -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    index = RouteIndex([Route("/tasks/{id}", endpoint, name="task")])
    assert index.url_path_for("task", id="7") == "/tasks/7"
    with pytest.raises(NoMatchFound):
        index.url_path_for("project", id="7")


@pytest.mark.parametrize("path", ["/{tenant}/tasks", "tasks"])
def test_refuses_a_route_it_cannot_index_by_its_first_segment(path: str) -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    route = Route("/placeholder", endpoint)
    route.path = path
    with pytest.raises(ValueError, match="literal segment"):
        RouteIndex([route])


async def test_the_apps_405_is_json_with_every_method_and_tells_no_tenant_apart(
    client: httpx.AsyncClient, tenant_a: Any, tenant_b: Any
) -> None:
    """Through the whole app: a PUT on A's task is the API's JSON 405 naming GET, HEAD,
    PATCH and DELETE, and B's PUT on it answers exactly as on an id that exists nowhere;
    A's task is unchanged."""
    project = await new_project(client, tenant_a)
    task = await new_task(client, tenant_a, project["id"], title="Put upon")
    url = f"/api/tasks/{task['id']}"
    answers = [
        await client.put(url, json={"title": "x"}, headers=tenant.headers)
        for tenant in (tenant_a, tenant_b)
    ]
    nowhere = await client.put(f"/api/tasks/{uuid.uuid4()}", json={}, headers=tenant_b.headers)
    for answer in (*answers, nowhere):
        error = assert_error(answer, 405, "method_not_allowed")
        assert methods_of(answer.headers["allow"]) == {"GET", "HEAD", "PATCH", "DELETE"}
        assert (error, answer.headers["allow"]) == (
            nowhere.json()["error"],
            nowhere.headers["allow"],
        )
    unchanged = await client.get(url, headers=tenant_a.headers)
    assert unchanged.json()["title"] == "Put upon"
