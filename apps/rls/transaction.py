"""The request transaction: one read-pool connection, switched to the caller's role and claims.

It is a Piccolo transaction, so every Piccolo query in the handler joins it through
Piccolo's ContextVar without being told.

Round trips, the cost that matters (bench/RESULTS.md): BEGIN, then role and claims in one
statement, then the handler's queries, then COMMIT (or ROLLBACK) sent together with the
connection reset, so the pool's own reset has nothing left to do.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from settings import get_settings

# One statement, claims as a bind parameter: auth.begin_request runs SET LOCAL ROLE and
# SET LOCAL request.jwt.claims (never set_config: Citus does not forward it).
BEGIN_REQUEST = "select auth.begin_request($1, $2, $3)"

#: True while a request transaction hands back a connection it already reset.
CONNECTION_RESET: ContextVar[bool] = ContextVar("refresh_connection_reset", default=False)


def timeout_setting(milliseconds: int) -> str | None:
    """STATEMENT_TIMEOUT_MS as a setting value, or None for no limit."""
    return f"{milliseconds}ms" if milliseconds else None


def reset_sql(connection: Any) -> str:
    """What a connection runs before it is reused: role back to the login role, session
    state cleared (asyncpg's reset query: RESET ALL, CLOSE ALL, UNLISTEN *, unlocks)."""
    return "RESET ROLE; " + connection.get_reset_query()


class RequestTransaction(PostgresTransaction):
    __slots__ = ("_reset", "claims_json", "read_only", "role", "statement_timeout")

    def __init__(
        self,
        engine: PostgresEngine,
        claims_json: str,
        role: str,
        read_only: bool,
        statement_timeout: str | None = None,
    ) -> None:
        super().__init__(engine=engine, allow_nested=False)
        self.claims_json = claims_json
        self.role = role
        self.read_only = read_only
        self.statement_timeout = statement_timeout
        self._reset = False

    async def get_connection(self):  # type: ignore[no-untyped-def]
        if self.engine.pool is None:
            raise RuntimeError("the read pool is not started (app lifespan)")
        return await self.engine.pool.acquire(timeout=get_settings().db_acquire_timeout)

    async def begin(self) -> None:
        # A plain BEGIN rather than asyncpg's Transaction object: the transaction ends
        # in the same round trip as the reset (see _end), which that object cannot track.
        try:
            await self.connection.execute("BEGIN READ ONLY" if self.read_only else "BEGIN")
            await self.connection.execute(
                BEGIN_REQUEST, self.claims_json, self.role, self.statement_timeout
            )
        except BaseException:
            # __aexit__ never runs when __aenter__ fails: give the connection back here
            # (release() resets it, or terminates it if it is broken).
            await self.engine.pool.release(self.connection)  # type: ignore[union-attr]
            raise

    async def _end(self, verb: str) -> None:
        # If COMMIT fails (e.g. a deferred constraint), the server skips the rest of the
        # script and the pool's reset runs as usual on release.
        await self.connection.execute(f"{verb}; {reset_sql(self.connection)}")
        self._reset = True

    async def commit(self) -> None:
        await self._end("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        await self._end("ROLLBACK")
        self._rolled_back = True

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        try:
            if not self._committed and not self._rolled_back:
                if exception is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            token = CONNECTION_RESET.set(self._reset)
            try:
                await self.engine.pool.release(self.connection)  # type: ignore[union-attr]
            finally:
                CONNECTION_RESET.reset(token)
                self.engine.current_transaction.reset(self.context)
        return exception is None
