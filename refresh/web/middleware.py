"""The request path (DESIGN.md "One request"), as one pure-ASGI middleware for every
authenticated route: the API and the admin alike.

1. a resolver says who is asking and answers with the app to run and its transaction:
   a bearer JWT for /api (`BearerTokenResolver`), an admin session for /admin
   (apps/admin/gate.py); or it refuses (401, 403) without touching a transaction;
2. a request body is read completely before a connection is taken, bounded in size and
   time, so a slow client holds no connection (bounded on routes without a transaction
   too);
3. the transaction opens (one statement sets role and claims) and the app runs inside it:
   its Piccolo queries join the transaction through a ContextVar;
4. commit when the status is below 400, otherwise roll back; the buffered response is sent
   only after the commit succeeded, so a client never sees success for a lost write;
5. the connection goes back to the pool, reset (role and claims gone).
"""

from __future__ import annotations

import logging
import socket
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refresh.db.transaction import RequestTransaction, timeout_setting
from refresh.web.body import BodyError, ClientGone, read_body, replay
from refresh.web.errors import pg_error
from refresh.web.fairness import LimitedTransaction, TenantBusy, TenantLimiter
from refresh.web.responses import TemporaryFileResponse, error_response
from refresh.web.tokens import AuthError, TokenVerifier, bearer_token
from settings import get_settings

log = logging.getLogger("refresh.request")

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
# The database is unreachable or the pool is exhausted: tell the client to retry.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class Refusal(Exception):
    """A resolver's answer when the request goes no further: an error response."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass(frozen=True)
class Route:
    """Where a request goes: `app` (None: the app the middleware wraps), inside
    `transaction`, or without one (a page that reads no table, such as a login form)."""

    transaction: AbstractAsyncContextManager[Any] | None
    app: ASGIApp | None = None
    state: dict[str, Any] = field(default_factory=dict)  # put into scope["state"]
    body_limit: int | None = None  # bytes; None: MAX_BODY_BYTES
    body_seconds: float = 0  # a longer body read than BODY_READ_TIMEOUT_SECONDS, if more


class Resolver(Protocol):
    async def resolve(self, scope: Scope) -> Route:
        """Who is asking, and so which app and transaction; raise Refusal to refuse."""
        ...


def is_read_only(scope: Scope) -> bool:
    return scope["method"] in READ_ONLY_METHODS


class BearerTokenResolver:
    """The API's resolver: a verified bearer JWT, and the read client switched to
    `role` with its claims (READ ONLY for GET and HEAD)."""

    def __init__(
        self,
        engine: PostgresEngine,
        verifier: TokenVerifier,
        role: str,
        statement_timeout_ms: int,
        limiter: TenantLimiter | None = None,
    ) -> None:
        self.engine = engine
        self.verifier = verifier
        self.role = role
        self.statement_timeout = timeout_setting(statement_timeout_ms)
        self.limiter = limiter

    async def resolve(self, scope: Scope) -> Route:
        try:
            claims = await self.verifier.verify(bearer_token(scope))
        except AuthError as exc:
            challenge = f'Bearer error="invalid_token", error_description="{exc.message}"'
            if exc.code == "missing_token":
                challenge = "Bearer"
            raise Refusal(401, exc.code, exc.message, {"www-authenticate": challenge}) from None
        transaction: AbstractAsyncContextManager[Any] = RequestTransaction(
            self.engine, claims, self.role, is_read_only(scope), self.statement_timeout
        )
        if self.limiter is not None and self.limiter.enabled:
            # fairness: a slot of the tenant's before a connection of the pool
            transaction = LimitedTransaction(self.limiter, str(claims.tenant_id), transaction)
        return Route(transaction, state={"claims": claims})


class TransactionMiddleware:
    def __init__(self, app: ASGIApp, resolver: Resolver) -> None:
        self.app = app
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            route = await self.resolver.resolve(scope)
        except Refusal as refusal:
            response = error_response(
                refusal.status, refusal.code, refusal.message, headers=refusal.headers
            )
            await response(scope, receive, send)
            return
        except UNAVAILABLE as exc:
            await unavailable(exc)(scope, receive, send)
            return
        except Exception:
            log.exception("resolving %s %s failed", scope["method"], scope["path"])
            await error_response(500, "internal_error", "internal server error")(
                scope, receive, send
            )
            return
        app = route.app or self.app
        state = scope.setdefault("state", {})
        state.update(route.state)
        # Who is asking, for the request log (refresh/web/requestlog.py): the claims of a
        # tenant's request, or the actor of a system (operator) transaction.
        state.setdefault("claims", getattr(route.transaction, "claims", None))
        state.setdefault("actor", getattr(route.transaction, "actor", None))
        if not is_read_only(scope):
            # Every body is bounded, a page without a transaction's too (the admin's
            # login and logout): an unbounded one costs the worker its memory.
            replayed = await pre_read_body(
                scope, receive, send, route.body_limit, route.body_seconds
            )
            if replayed is None:
                return
            receive = replayed
        if route.transaction is None:
            await app(scope, receive, send)
            return
        await respond_in_transaction(app, scope, receive, send, route.transaction)


def unavailable(exc: BaseException) -> Any:
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return error_response(
        503, "unavailable", "the database is unavailable", headers={"retry-after": "1"}
    )


async def pre_read_body(
    scope: Scope, receive: Receive, send: Send, limit: int | None = None, seconds: float = 0
) -> Receive | None:
    """Read a request body before a connection is taken: a slow or oversized upload must
    not hold one. Returns a receive that replays it, or None once an error was sent."""
    settings = get_settings()
    limit = settings.max_body_bytes if limit is None else limit
    seconds = max(seconds, settings.body_read_timeout_seconds)
    try:
        body = await read_body(receive, limit, seconds)
    except BodyError as exc:
        await error_response(exc.status, exc.code, exc.message)(scope, receive, send)
        return None
    except ClientGone:
        return None
    return replay(body, receive)


async def respond_in_transaction(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    transaction: AbstractAsyncContextManager[Any],
) -> None:
    """Run `app` inside `transaction` with its response held back; commit when the status
    is below 400, otherwise roll back; send the response only after the commit succeeded.

    `transaction` is an async context manager with commit() and rollback() (a
    RequestTransaction or a SystemTransaction).
    """
    try:
        await _respond_after_commit(app, scope, receive, send, transaction)
    finally:
        # A response prepared for after the commit (an export's temporary file) that was
        # not sent, because the request failed or its commit did, is discarded.
        unsent = scope.get("state", {}).pop("after_commit", None)
        if isinstance(unsent, TemporaryFileResponse):
            unsent.discard()  # nothing when it was sent: it removed its file then


async def _respond_after_commit(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    transaction: AbstractAsyncContextManager[Any],
) -> None:
    response: list[Message] = []
    status = 500

    async def buffer(message: Message) -> None:
        response.append(message)

    replacement: Any = None
    try:
        async with transaction as active:
            await app(scope, receive, buffer)
            status = response[0]["status"] if response else 500
            if status >= 400:
                await active.rollback()
            else:
                try:
                    await active.commit()
                except asyncpg.PostgresError as exc:
                    # e.g. a deferred constraint: checked at COMMIT, answered like
                    # the same error during the request would have been.
                    mapped = pg_error(exc)
                    if mapped is None:
                        raise
                    replacement = error_response(*mapped)
    except UNAVAILABLE as exc:
        await unavailable(exc)(scope, receive, send)
        return
    except TenantBusy as busy:
        headers = {"retry-after": str(busy.retry_after)}
        await error_response(429, "too_many_requests", str(busy), headers=headers)(
            scope, receive, send
        )
        return
    except Exception as exc:
        # An app that answers errors itself and re-raises them (Starlette's
        # ServerErrorMiddleware, inside piccolo-admin) lands here: a database error the
        # client caused still gets its 4xx, never the 500 it buffered.
        mapped = pg_error(exc)
        if mapped is None:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            mapped = (500, "internal_error", "internal server error")
        await error_response(*mapped)(scope, receive, send)
        return
    if replacement is not None:
        await replacement(scope, receive, send)
        return
    after_commit = scope.get("state", {}).get("after_commit")
    if after_commit is not None and status < 400:
        # A response too large to hold (an export): the handler prepared it inside the
        # transaction, and it is sent, streamed, only now that the commit succeeded.
        await after_commit(scope, receive, send)
        return
    for message in response:
        await send(message)
