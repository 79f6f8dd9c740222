"""Routes looked up by their first path segment instead of tried one by one.

Starlette's router tries every route in order, and each try matches the path against
the route's regular expression: `GET /api/tasks/{id}` was the 17th of 23 API routes, a
visible share of the worker's CPU on that request under load (bench/NOTES.md, "The
app's own CPU on the task by id"). `RouteIndex` is one route standing for a list of
routes: it takes the path's first segment, and tries only the routes whose path starts
with that literal segment, in their original order. Routes of different first segments
cannot match the same path, so the route that answers a method is the one the plain list
would pick (the first full match). A method no route of the path takes is a 405 whose
Allow header names every method some route of that path takes: Starlette's router names
only the first such route's methods, so `PUT /tasks/{id}` would be told `GET, HEAD` when
PATCH and DELETE are served there too.

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
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
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


#: The scope key carrying a 405's Allow header from `matches` to `handle`.
ALLOWED = "refresh.route_index.allowed"


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
        partial: Scope | None = None
        allowed: set[str] = set()
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, "route": route}
            if match is Match.PARTIAL:
                # the path is served, not with this method: the first such route stands for
                # it (the request log's template), the Allow header names them all
                partial = partial or {**child_scope, "route": route}
                allowed |= route.methods or set()
        if partial is None:
            return Match.NONE, {}
        return Match.PARTIAL, {**partial, ALLOWED: ", ".join(sorted(allowed))}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = scope.pop(ALLOWED, None)
        if allowed is None:
            await scope["route"].handle(scope, receive, send)
            return
        headers = {"Allow": allowed}
        # as Starlette's Route answers a 405: through the app's exception handlers if any
        if "app" in scope:
            raise HTTPException(status_code=405, headers=headers)
        await PlainTextResponse("Method Not Allowed", 405, headers)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
