"""The request transaction: one read-pool connection, switched to the caller's role and claims.

It is a Piccolo transaction, so every Piccolo query in the handler joins it through
Piccolo's ContextVar without being told.
"""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

# One statement, claims as a bind parameter: auth.begin_request runs SET LOCAL ROLE and
# SET LOCAL request.jwt.claims (never set_config: Citus does not forward it).
BEGIN_REQUEST = "select auth.begin_request($1, $2, $3)"


class RequestTransaction(PostgresTransaction):
    __slots__ = ("claims_json", "read_only", "role", "statement_timeout")

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

    async def get_connection(self):  # type: ignore[no-untyped-def]
        if self.engine.pool is None:
            raise RuntimeError("the read pool is not started (app lifespan)")
        from settings import get_settings

        return await self.engine.pool.acquire(timeout=get_settings().db_acquire_timeout)

    async def begin(self) -> None:
        self.transaction = self.connection.transaction(readonly=self.read_only)
        try:
            await self.transaction.start()
            await self.connection.execute(
                BEGIN_REQUEST, self.claims_json, self.role, self.statement_timeout
            )
        except BaseException:
            # __aexit__ never runs when __aenter__ fails: give the connection back here
            # (release() resets it, or terminates it if it is broken).
            await self.engine.pool.release(self.connection)  # type: ignore[union-attr]
            raise
