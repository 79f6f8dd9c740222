"""One structured log line per request, and its metrics (the outermost middleware).

Each request gets an id: the caller's `X-Request-Id` when it is a sane token (letters,
digits, `._:-`, at most 128 characters; anything else is replaced, never echoed), or a
new one; the response carries it back in `X-Request-Id`, and every log record written
while the request runs carries it too (refresh/web/logconfig.py).

The line (logger `refresh.access`, INFO) says who and what: request id, method, route
template, path, status, duration, time in the database and statement count (refresh/db/
timing.py), tenant and subject, the class of a failed statement. A request slower than
SLOW_REQUEST_MS is logged again (logger `refresh.slow`, WARNING) with the statements it
ran and how long each took. A statement refused by a missing grant or policy has its own
warning naming table, role and command (refresh/db/refusals.py).

The route template comes from the matched route, which Starlette's and FastAPI's routers
(the admin) leave in scope["route"]: labels name `/api/tasks/{id}`, never an id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refresh.db.timing import CURRENT, QueryStats
from refresh.web.logconfig import REQUEST_ID
from refresh.web.metrics import metrics

log = logging.getLogger("refresh.access")
slow_log = logging.getLogger("refresh.slow")

REQUEST_ID_HEADER = b"x-request-id"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNMATCHED = "unmatched"  # one label for every path no route knows (bounded series)


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            given = value.decode("latin-1")
            if VALID_REQUEST_ID.fullmatch(given):
                return given
            break
    # 128 random bits in hex, like uuid4().hex without building a UUID object, which cost
    # more than the random bits themselves (bench/NOTES.md, "The app's own CPU on the
    # task by id")
    return os.urandom(16).hex()


def route_template(scope: Scope) -> str:
    route = scope.get("route")  # the last route matched (Starlette and FastAPI set it)
    root = scope.get("root_path", "")  # every mount matched on the way adds its path
    if isinstance(route, Mount):
        # Refused before the mounted app routed it (e.g. a 401 of /api): the mount only.
        return f"{root}/*"
    path = getattr(route, "path", None)
    return root + path if isinstance(path, str) else UNMATCHED


def principal(state: dict[str, Any]) -> tuple[str | None, str | None]:
    """(tenant, subject) of a request, from what its resolver left in scope["state"]."""
    claims = state.get("claims")
    if claims is not None:
        return str(claims.tenant_id), claims.user_id
    actor = state.get("actor")
    return (None, actor) if isinstance(actor, str) else (None, None)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, slow_request_ms: int = 0) -> None:
        self.app = app
        self.slow_seconds = slow_request_ms / 1000 if slow_request_ms else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (REQUEST_ID_HEADER, request_id.encode())
        state = scope.setdefault("state", {})
        stats = QueryStats()
        status = 500  # if the app fails before answering
        stats_token = CURRENT.set(stats)
        id_token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            # asyncpg reports each statement with loop.call_soon: one turn of the loop
            # lets the last ones (COMMIT) land before the line is written.
            await asyncio.sleep(0)
            self.record(scope, state, request_id, status, seconds, stats)
            CURRENT.reset(stats_token)
            REQUEST_ID.reset(id_token)

    def record(
        self,
        scope: Scope,
        state: dict[str, Any],
        request_id: str,
        status: int,
        seconds: float,
        stats: QueryStats,
    ) -> None:
        route = route_template(scope)
        method = scope["method"]
        metrics().observe(route, method, status, seconds, stats.seconds)
        tenant, subject = principal(state)
        fields = {
            "request_id": request_id,
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "db_ms": round(stats.seconds * 1000, 2),
            "db_statements": stats.count,
            "tenant": tenant,
            "subject": subject,
            # after uvicorn's proxy headers: the client's own address behind a trusted proxy
            "client": scope["client"][0] if scope.get("client") else None,
        }
        if stats.error:
            fields["db_error"] = stats.error
        log.info("%s %s %s", method, route, status, extra=fields)
        if self.slow_seconds is not None and seconds >= self.slow_seconds:
            slow_log.warning(
                "slow request: %s %s took %.0f ms, %.0f ms in %d statements",
                method,
                route,
                seconds * 1000,
                stats.seconds * 1000,
                stats.count,
                extra={
                    **fields,
                    "statements": [
                        {"ms": round(elapsed * 1000, 2), "sql": sql}
                        for elapsed, sql in stats.statements
                    ],
                },
            )
