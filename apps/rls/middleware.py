"""The tenant request path (DESIGN.md "One request"), as a pure-ASGI middleware.

1. verify the bearer JWT, or answer 401 without touching the database;
2. open a transaction on the read pool (READ ONLY for GET/HEAD) and switch it to
   `authenticated` with the claims, in one statement;
3. run the endpoint: its Piccolo queries join the transaction through a ContextVar;
4. commit when the status is below 400, otherwise roll back; the buffered response is
   sent only after the commit succeeded, so a client never sees success for a write
   that was lost;
5. the connection goes back to the pool, where its reset also runs RESET ROLE.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.rls.body import BodyError, ClientGone, read_body, replay
from apps.rls.jwt_auth import AuthError, TokenVerifier
from apps.rls.transaction import RequestTransaction, timeout_setting
from apps.web.errors import pg_error
from apps.web.responses import error_body
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


def bearer_token(scope: Scope) -> str:
    values = [v for k, v in scope["headers"] if k == b"authorization"]
    if not values:
        raise AuthError("missing_token", "Authorization: Bearer <token> is required")
    if len(values) > 1:
        raise AuthError("invalid_token", "only one Authorization header is allowed")
    try:
        scheme, _, token = values[0].decode("latin-1").partition(" ")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise AuthError("invalid_token", "Authorization header is malformed") from None
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("invalid_token", "Authorization must use the Bearer scheme")
    return token.strip()


def json_messages(status: int, body: bytes, extra: list[Any] | None = None) -> list[Message]:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return [
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])},
        {"type": "http.response.body", "body": body},
    ]


def error_messages(status: int, code: str, message: str) -> list[Message]:
    return json_messages(status, error_body(code, message))


async def send_json(send: Send, status: int, body: bytes, extra: list[Any] | None = None) -> None:
    for message in json_messages(status, body, extra):
        await send(message)


class TenantTransactionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        engine: PostgresEngine,
        verifier: TokenVerifier,
        role: str,
        statement_timeout_ms: int = 0,
    ) -> None:
        self.app = app
        self.engine = engine
        self.verifier = verifier
        self.role = role
        self.statement_timeout = timeout_setting(statement_timeout_ms)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            claims = await self.verifier.verify(bearer_token(scope))
        except AuthError as exc:
            challenge = f'Bearer error="invalid_token", error_description="{exc.message}"'
            if exc.code == "missing_token":
                challenge = "Bearer"
            await send_json(
                send,
                401,
                error_body(exc.code, exc.message),
                [(b"www-authenticate", challenge.encode())],
            )
            return

        if scope["method"] not in READ_ONLY_METHODS:
            replayed = await pre_read_body(receive, send)
            if replayed is None:
                return
            receive = replayed

        scope.setdefault("state", {})["claims"] = claims
        transaction = RequestTransaction(
            self.engine,
            claims.as_json(),
            self.role,
            scope["method"] in READ_ONLY_METHODS,
            self.statement_timeout,
        )
        await respond_in_transaction(self.app, scope, receive, send, transaction)


async def pre_read_body(receive: Receive, send: Send) -> Receive | None:
    """Read a request body before a connection is taken: a slow or oversized upload must
    not hold one. Returns a receive that replays it, or None once an error was sent."""
    settings = get_settings()
    try:
        body = await read_body(receive, settings.max_body_bytes, settings.body_read_timeout_seconds)
    except BodyError as exc:
        await send_json(send, exc.status, error_body(exc.code, exc.message))
        return None
    except ClientGone:
        return None
    return replay(body, receive)


async def respond_in_transaction(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, transaction: Any
) -> None:
    """Run `app` inside `transaction` with its response held back; commit when the status
    is below 400, otherwise roll back; send the response only after the commit succeeded.

    `transaction` is an async context manager with commit() and rollback() (a
    RequestTransaction, or the admin's operator transaction).
    """
    response: list[Message] = []

    async def buffer(message: Message) -> None:
        response.append(message)

    try:
        async with transaction:
            await app(scope, receive, buffer)
            status = response[0]["status"] if response else 500
            if status >= 400:
                await transaction.rollback()
            else:
                try:
                    await transaction.commit()
                except asyncpg.PostgresError as exc:
                    # e.g. a deferred constraint: checked at COMMIT, answered like
                    # the same error during the request would have been.
                    mapped = pg_error(exc)
                    if mapped is None:
                        raise
                    response = error_messages(*mapped)
    except UNAVAILABLE as exc:
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        await send_json(
            send,
            503,
            error_body("unavailable", "the database is unavailable"),
            [(b"retry-after", b"1")],
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
        await send_json(send, mapped[0], error_body(mapped[1], mapped[2]))
        return
    for message in response:
        await send(message)
