"""Routes looked up by their first path segment instead of tried one by one.

Starlette's router tries every route in order, and each try matches the path against
the route's regular expression: `GET /api/tasks/{id}` was the 17th of 23 API routes, a
visible share of the worker's CPU on that request under load (bench/NOTES.md, "The
app's own CPU on the task by id"). `RouteIndex` is one route standing for a list of
routes: it takes the path's first segment, and tries only the routes whose path starts
with that literal segment, in their original order. Routes of different first segments
cannot match the same path, so the route that answers (the first full match, else the
first route of the path with another method, for its 405) is the one the plain list
would pick.

Built on Starlette's `BaseRoute`, the interface its router calls (`matches`, `handle`,
`url_path_for`); the router stores the matched route in `scope["route"]` and then
updates the scope with what `matches` returned, which here names the inner route, so
the request log's route template (refresh/web/requestlog.py) is the inner route's.
tests/refresh/web/test_route_index.py fails if Starlette changes either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send


def first_segment(path: str) -> str:
    """`tasks` of `/tasks/{id}/comments`; empty for `/`."""
    return path[1:].split("/", 1)[0]


def route_path(scope: Scope) -> str:
    """The path below the mounts matched so far, as Starlette's routes match it (its own
    helper for this, starlette._utils.get_route_path, is private)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


class RouteIndex(BaseRoute):
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)
        self.by_segment: dict[str, list[Route]] = {}
        for route in self.routes:
            segment = first_segment(route.path)
            if not route.path.startswith("/") or "{" in segment:
                raise ValueError(f"{route.path}: an indexed route starts with a literal segment")
            self.by_segment.setdefault(segment, []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        candidates = self.by_segment.get(first_segment(route_path(scope)), ())
        partial: tuple[Match, Scope] = (Match.NONE, {})
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, "route": route}
            if match is Match.PARTIAL and partial[0] is Match.NONE:
                partial = (match, {**child_scope, "route": route})
        return partial

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
