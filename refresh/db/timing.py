"""Time spent in the database, per request: every statement a pooled connection runs is
timed by asyncpg's own query logger (`Connection.add_query_logger`, public API) and added
to the `QueryStats` of the request that ran it.

The request's stats live in a ContextVar holding a mutable object: asyncpg calls the
logger with `loop.call_soon`, which runs it in a copy of the caller's context, so the
copy still points at the same object. Statements outside a request (CLI, lifespan) find
no stats and cost only the callback. Failed statements are reported by error class to
`ERROR_HOOKS` (/metrics counts them, refresh/web/metrics.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

#: Statements kept per request for the slow-request log (their text and time).
KEPT_STATEMENTS = 30
KEPT_CHARS = 300

#: Called with the exception class name of every failed statement (the metrics register
#: their counter here at app start; the database layer knows nothing of them).
ERROR_HOOKS: list[Callable[[str], None]] = []


@dataclass(slots=True)
class QueryStats:
    """What one request did in the database."""

    seconds: float = 0.0
    count: int = 0
    statements: list[tuple[float, str]] = field(default_factory=list)
    error: str | None = None  # the class of the last failed statement

    def add(self, elapsed: float, query: str, exception: BaseException | None) -> None:
        self.seconds += elapsed
        self.count += 1
        if len(self.statements) < KEPT_STATEMENTS:
            self.statements.append((elapsed, loggable(query)))
        if exception is not None:
            self.error = type(exception).__name__


#: A request's opening statement calls this with the token's claims as literals
#: (refresh/db/transaction.py begin_script): the log keeps the call, not its values.
CLAIMS_CALL = "auth.begin_request("


def loggable(query: str) -> str:
    """A statement's text as the slow-request log shows it: its start, and never the
    claims a request's opening statement carries (the token's subject and every claim)."""
    cut = query.find(CLAIMS_CALL, 0, KEPT_CHARS)  # nothing past that is kept
    if cut >= 0 and not query.startswith("$1", cut + len(CLAIMS_CALL)):
        return query[: cut + len(CLAIMS_CALL)] + "...)"
    return query[:KEPT_CHARS]


CURRENT: ContextVar[QueryStats | None] = ContextVar("refresh_query_stats", default=None)


def record_query(record: Any) -> None:
    """asyncpg's query logger callback (a `LoggedQuery`)."""
    exception = record.exception
    if exception is not None:
        for hook in ERROR_HOOKS:
            hook(type(exception).__name__)
    stats = CURRENT.get()
    if stats is not None:
        stats.add(record.elapsed, record.query, exception)


async def time_queries(connection: Any) -> None:
    """A pool's `init` hook: every new connection reports its statements."""
    connection.add_query_logger(record_query)
