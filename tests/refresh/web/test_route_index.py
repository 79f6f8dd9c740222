"""RouteIndex (refresh/web/route_index.py) answers every request exactly as Starlette's
router answers it from the plain list of the same routes: the same route, 405 with the
same Allow header, 404, the trailing-slash redirect; the matched route is the inner one
(the request log's template). Fails if Starlette changes how its router uses a route."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from app import ENDPOINTS
from refresh.web.route_index import RouteIndex

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
    is_json = response.headers.get("content-type") == "application/json" and response.content
    body = response.json() if is_json else None  # HEAD: the headers only
    return (
        response.status_code,
        response.headers.get("allow"),
        response.headers.get("location"),
        response.headers.get("x-route-class"),
        body,
        response.text if body is None else None,
    )


async def test_answers_every_request_as_the_plain_list_of_routes() -> None:
    plain, indexed = client_of(answering_routes()), client_of([RouteIndex(answering_routes())])
    statuses = set()
    async with plain, indexed:
        for method, path in itertools.product(METHODS, paths()):
            url = "/api" + path
            expected = answer_of(await plain.request(method, url))
            assert answer_of(await indexed.request(method, url)) == expected, (method, url)
            statuses.add(expected[0])
    # Each kind of answer was compared: a route, a 405, a 404 and a redirect.
    assert {200, 404, 405, 307} <= statuses


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
    with pytest.raises(Exception, match="No route exists"):
        index.url_path_for("project", id="7")


@pytest.mark.parametrize("path", ["/{tenant}/tasks", "tasks"])
def test_refuses_a_route_it_cannot_index_by_its_first_segment(path: str) -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    route = Route("/placeholder", endpoint)
    route.path = path
    with pytest.raises(ValueError, match="literal segment"):
        RouteIndex([route])
