"""The transactions requests run in, on a pooled connection.

`PooledTransaction` is the one lifecycle: take a connection (waiting at most
DB_ACQUIRE_TIMEOUT), start it with the subclass's single begin hook, end it with COMMIT or
ROLLBACK sent together with the connection reset, and always give the connection back.
It is a Piccolo transaction, so every Piccolo query in the handler joins it through
Piccolo's ContextVar without being told.

- `RequestTransaction`: the read client switched to `authenticated` with the caller's
  claims (API requests, tenant staff in the admin): everything it does is under RLS.
- `SystemTransaction`: the write client, with the actor the audit log names (operators
  in the admin); tables bound to the read client join it too, so it sees every tenant.

Round trips, the cost that matters (bench/RESULTS.md): BEGIN with role and claims in one
message, then the handler's queries, then COMMIT (or ROLLBACK) with the reset, so the
pool's own reset has nothing left to do: three for a read request with one query.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from refresh.db.claims import Claims
from refresh.db.engines import Engine, reset_sql
from refresh.db.scope import serving_request
from refresh.db.sql import quote_literal, string_literal

# One statement: auth.begin_request runs SET LOCAL ROLE, SET LOCAL request.jwt.claims and
# SET LOCAL request.tenant_id, the claims' tenant, which auth.tenant_id() reads (never
# set_config: Citus does not forward it). With bind parameters (the benchmarks'
# SQL level); a request sends it as literals with its BEGIN (begin_script).
BEGIN_REQUEST = "select auth.begin_request($1, $2, $3)"


def begin_script(
    claims: str,
    role: str,
    read_only: bool,
    statement_timeout: str | None,
    snapshot: bool = False,
) -> str:
    """BEGIN and auth.begin_request as one simple-protocol message: one round trip where
    a bind parameter needs a message of its own. The values go in as literals
    (string_literal); tests/refresh/db/test_request_round_trips.py sends hostile ones.
    `snapshot`: REPEATABLE READ, every statement reading the same snapshot (an export)."""
    timeout = "null" if statement_timeout is None else string_literal(statement_timeout)
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ" if snapshot else "BEGIN"
    return (
        f"{begin}{' READ ONLY' if read_only else ''}; select auth.begin_request("
        f"{string_literal(claims)}, {string_literal(role)}, {timeout})"
    )


def timeout_setting(milliseconds: int) -> str | None:
    """STATEMENT_TIMEOUT_MS as a setting value, or None for no limit."""
    return f"{milliseconds}ms" if milliseconds else None


class PooledTransaction(PostgresTransaction):
    """A transaction on a connection of its engine's pool, started by `start()`."""

    __slots__ = ("_ended", "_joined", "_reset_done")
    #: Named in the error when the pool is not started.
    pool_name = "the pool"

    def __init__(self, engine: PostgresEngine, joins: tuple[PostgresEngine, ...] = ()) -> None:
        super().__init__(engine=engine, allow_nested=False)
        self._ended = False
        self._reset_done = False
        # Other engines whose tables run their queries in this transaction too.
        self._joined: list[tuple[PostgresEngine, Token[Any] | None]] = [
            (other, None) for other in joins
        ]

    async def start(self, connection: Any) -> None:
        """The begin hook: BEGIN and whatever the transaction sets, in one round trip
        where the statements allow it."""
        raise NotImplementedError

    async def get_connection(self):  # type: ignore[no-untyped-def]
        if self.engine.pool is None:
            # A connection of its own per request would work, slowly, and hide the fault.
            raise RuntimeError(f"{self.pool_name} is not started (app lifespan)")
        return await self.engine.pool.acquire()

    async def begin(self) -> None:
        try:
            await self.start(self.connection)
        except BaseException:
            # __aexit__ never runs when __aenter__ fails: give the connection back here
            # (the pool's reset cleans it up, or terminates it if it is broken).
            await self._give_back(already_reset=False)
            raise

    async def __aenter__(self) -> PooledTransaction:
        await super().__aenter__()
        self._joined = [(other, other.current_transaction.set(self)) for other, _ in self._joined]
        return self

    async def _end(self, verb: str) -> None:
        self._ended = True  # the server ends the transaction whether the verb succeeds
        # If COMMIT fails (e.g. a deferred constraint), the server skips the rest of the
        # script and the pool's reset runs as usual on release.
        await self.connection.execute(f"{verb}; {reset_sql(self.connection)}")
        self._reset_done = True

    async def commit(self) -> None:
        await self._end("COMMIT")

    async def rollback(self) -> None:
        await self._end("ROLLBACK")

    async def _give_back(self, already_reset: bool) -> None:
        if isinstance(self.engine, Engine):
            await self.engine.release(self.connection, already_reset=already_reset)
        else:
            await self.engine.pool.release(self.connection)  # type: ignore[union-attr]

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        try:
            if not self._ended:
                await (self.commit() if exception is None else self.rollback())
        finally:
            for other, token in reversed(self._joined):
                if token is not None:
                    other.current_transaction.reset(token)
            try:
                # given back even when COMMIT or ROLLBACK failed: the pool's reset (or
                # termination, for a broken connection) cleans it up
                await self._give_back(already_reset=self._reset_done)
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


class RequestTransaction(PooledTransaction):
    """The read client switched to a request role with the caller's claims, under RLS.
    While it is open, the write client refuses to run (refresh/db/scope.py)."""

    __slots__ = (
        "_in_index_order",
        "_planned_for_values",
        "_serving",
        "_wants_index_order",
        "claims",
        "read_only",
        "role",
        "statement_timeout",
    )
    pool_name = "the read pool"

    def __init__(
        self,
        engine: PostgresEngine,
        claims: Claims,
        role: str,
        read_only: bool,
        statement_timeout: str | None = None,
        in_index_order: bool = False,
    ) -> None:
        super().__init__(engine)
        self.claims = claims
        self.role = role
        self.read_only = read_only
        self.statement_timeout = statement_timeout
        self._serving = serving_request(str(claims.payload.get("via", "api")))
        self._planned_for_values = False
        self._in_index_order = False
        # known before the request runs (the admin's text filters): plan_for_values at start
        self._wants_index_order = in_index_order

    async def __aenter__(self) -> PooledTransaction:
        entered = await super().__aenter__()
        self._serving.__enter__()
        return entered

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        self._serving.__exit__(None, None, None)
        return await super().__aexit__(exception_type, exception, traceback)

    async def start(self, connection: Any) -> None:
        # A plain BEGIN rather than asyncpg's Transaction object: the transaction ends
        # in the same round trip as the reset, which that object cannot track.
        script = begin_script(
            self.claims.as_json(), self.role, self.read_only, self.statement_timeout
        )
        await connection.execute(script)
        if self._wants_index_order:
            # A message of its own: Citus forwards a SET to the workers with the whole
            # message it came in, which must not hold a BEGIN (SystemTransaction.start).
            await self.plan_for_values(in_index_order=True)

    async def plan_for_values(self, in_index_order: bool = False) -> None:
        """Plan the transaction's next statements for their values, each time, instead
        of once for any (auth.begin_request forces generic plans for API requests).

        For a query whose filters the caller chooses: a generic plan cannot see the
        tenant, so it assumes one of average size, and on a large tenant a broad search
        sorted every match for one page (bench/NOTES.md, the API on bench-big).

        `in_index_order` also turns sorting off, for a page of a text search sorted by an
        indexed key. Under RLS the planner may use a column's statistics only for
        operators marked leakproof, and ILIKE is not: it guesses a term's matches from
        the pattern alone, takes a long common word for a rare one, and then sorted every
        match for one page where the index, read in order, stops at the page's last
        match. In index order a search reads at most the tenant's rows, which the sort
        reads anyway (one that matches nothing pays a little for the order: the notes).
        One round trip, once per transaction (it has begun already)."""
        script = []
        if not self._planned_for_values:
            script.append("SET LOCAL plan_cache_mode = force_custom_plan")
        if in_index_order and not self._in_index_order:
            script.append("SET LOCAL enable_sort = off")
        if script:
            await self.connection.execute("; ".join(script))
            self._planned_for_values = True
            self._in_index_order = self._in_index_order or in_index_order


async def plan_for_values(engine: Any, in_index_order: bool = False) -> None:
    """RequestTransaction.plan_for_values for the engine's current request transaction;
    nothing outside one (the write client plans as PostgreSQL chooses)."""
    transaction = engine.current_transaction.get()
    if isinstance(transaction, RequestTransaction):
        await transaction.plan_for_values(in_index_order)


class SystemTransaction(PooledTransaction):
    """The write client (RLS bypassed) for one actor, which the audit log names; tables
    bound to `joins` (the read client) run their queries in it too.

    `refresh.actor` is trusted by the audit trigger on the write client's connections only.
    """

    __slots__ = ("actor", "statement_timeout")
    pool_name = "the write pool"

    def __init__(
        self,
        engine: PostgresEngine,
        actor: str,
        joins: tuple[PostgresEngine, ...] = (),
        statement_timeout: str | None = None,
    ) -> None:
        super().__init__(engine, joins)
        self.actor = actor
        self.statement_timeout = statement_timeout

    async def start(self, connection: Any) -> None:
        # SET LOCAL takes no bind parameter: the values go in as quoted literals. BEGIN goes
        # on its own: Citus forwards a SET to the workers as the whole query string of its
        # message (citus.propagate_set_commands = 'local'), which must not hold a BEGIN; the
        # workers need refresh.actor, which the audit trigger reads on the shards.
        await connection.execute("BEGIN")
        script = f"SET LOCAL refresh.actor = {quote_literal(self.actor)}"
        if self.statement_timeout:
            script += f"; SET LOCAL statement_timeout = {quote_literal(self.statement_timeout)}"
        await connection.execute(script)
