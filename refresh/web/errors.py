"""Exception handlers: every failure leaves as JSON with the right status, never a trace or SQL."""

from __future__ import annotations

import logging

import asyncpg
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from refresh.web.api import QueryValidationError
from refresh.web.responses import error_response

log = logging.getLogger("refresh.errors")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


#: A body of thousands of unknown fields would otherwise be answered with a list several
#: times its size; the first problems are what a client fixes first.
MAX_DETAILS = 20


def _details(exc: ValidationError) -> list[dict[str, str]]:
    errors = exc.errors(include_url=False, include_input=False)
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
        for e in errors[:MAX_DETAILS]
    ]
    if len(errors) > MAX_DETAILS:
        more = len(errors) - MAX_DETAILS
        details.append({"field": "", "message": f"and {more} more, not listed"})
    return details


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return error_response(422, "validation_error", "request body is invalid", _details(exc))


async def query_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QueryValidationError)
    return error_response(
        422, "validation_error", "query parameters are invalid", _details(exc.error)
    )


# SQLSTATE classes a client can cause; the message is ours, never the server's
# (it could name another tenant's row or the SQL).
PG_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    asyncpg.UniqueViolationError: (409, "conflict", "a row with these values exists already"),
    asyncpg.ForeignKeyViolationError: (422, "not_found", "a referenced row was not found"),
    asyncpg.CheckViolationError: (422, "validation_error", "a value is out of range"),
    asyncpg.NotNullViolationError: (422, "validation_error", "a required value is missing"),
    asyncpg.InsufficientPrivilegeError: (403, "forbidden", "not allowed for this tenant or role"),
    # Raised by auth.begin_request: the token is valid, its subject no longer a member of
    # its tenant (or not with the role it claims).
    asyncpg.InvalidAuthorizationSpecificationError: (
        403,
        "not_a_member",
        "the token's subject is not a current member of its tenant with this role",
    ),
    asyncpg.SerializationError: (409, "conflict", "a concurrent change conflicted, retry"),
    asyncpg.DeadlockDetectedError: (409, "conflict", "a concurrent change conflicted, retry"),
    # Class 22: the value itself (e.g. a NUL character, a number out of a column's range).
    asyncpg.DataError: (422, "validation_error", "a value cannot be stored"),
    asyncpg.QueryCanceledError: (503, "timeout", "the database took too long"),
    # Classes 08, 53, 57P0x: the server went away, ran out of resources, or is restarting.
    asyncpg.PostgresConnectionError: (503, "unavailable", "the database is unavailable"),
    asyncpg.InsufficientResourcesError: (503, "unavailable", "the database is unavailable"),
    asyncpg.OperatorInterventionError: (503, "unavailable", "the database is unavailable"),
}


def pg_error(exc: Exception) -> tuple[int, str, str] | None:
    """(status, code, message) for an error a client can cause or should retry."""
    for error_class, mapped in PG_ERRORS.items():
        if isinstance(exc, error_class):
            return mapped
    return None


async def database_error(request: Request, exc: Exception) -> Response:
    mapped = pg_error(exc)
    if mapped is not None:
        return error_response(*mapped)
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        # a handler's mistake, not the client's: say what to change
        log.error(
            "%s %s wrote in its READ ONLY transaction: GET and HEAD requests run read-only"
            " (refresh/web/middleware.py); write from a POST, PUT, PATCH or DELETE route",
            request.method,
            request.url.path,
            exc_info=exc,  # which statement wrote
        )
        return error_response(500, "internal_error", "internal server error")
    log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    ValidationError: validation_error,
    QueryValidationError: query_validation_error,
    asyncpg.PostgresError: database_error,
}
