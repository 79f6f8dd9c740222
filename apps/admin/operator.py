"""An operator's admin request: one write-client transaction for everything it reads and
writes, tables bound to the read client included (they join it through their engine's
ContextVar), so piccolo-admin's queries bypass RLS and see every tenant.

Like the tenant request transaction (apps/rls/transaction.py) it waits at most
DB_ACQUIRE_TIMEOUT for a connection, cancels statements after STATEMENT_TIMEOUT_MS, and
always gives its connection back, a failed COMMIT included. `refresh.actor` names the
operator in the audit log (the trigger trusts it on the write client's connections only).
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from apps.rls.migration_sql import quote_literal
from settings import get_settings


class OperatorTransaction(PostgresTransaction):
    __slots__ = ("_read_token", "actor", "read_engine", "statement_timeout")

    def __init__(
        self,
        write_engine: PostgresEngine,
        read_engine: PostgresEngine,
        actor: str,
        statement_timeout: str | None = None,
    ) -> None:
        super().__init__(engine=write_engine, allow_nested=False)
        self.read_engine = read_engine
        self.actor = actor
        self.statement_timeout = statement_timeout
        self._read_token: Any = None

    async def get_connection(self):  # type: ignore[no-untyped-def]
        if self.engine.pool is None:
            raise RuntimeError("the write pool is not started (app lifespan)")
        return await self.engine.pool.acquire(timeout=get_settings().db_acquire_timeout)

    async def begin(self) -> None:
        # SET LOCAL takes no bind parameter: the values go in as quoted literals, all in
        # one round trip with the BEGIN.
        script = f"BEGIN; SET LOCAL refresh.actor = {quote_literal(self.actor)}"
        if self.statement_timeout:
            script += f"; SET LOCAL statement_timeout = {quote_literal(self.statement_timeout)}"
        try:
            await self.connection.execute(script)
        except BaseException:
            await self.engine.pool.release(self.connection)  # type: ignore[union-attr]
            raise

    async def __aenter__(self) -> OperatorTransaction:
        await super().__aenter__()
        self._read_token = self.read_engine.current_transaction.set(self)
        return self

    async def commit(self) -> None:
        try:
            await self.connection.execute("COMMIT")
        except BaseException:
            self._rolled_back = True  # the server ended the transaction either way
            raise
        self._committed = True

    async def rollback(self) -> None:
        self._rolled_back = True
        await self.connection.execute("ROLLBACK")

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        try:
            if not self._committed and not self._rolled_back:
                if exception is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            self.read_engine.current_transaction.reset(self._read_token)
            try:
                # released even when COMMIT or ROLLBACK failed: the pool's reset (or
                # termination, for a broken connection) cleans it up
                await self.engine.pool.release(self.connection)  # type: ignore[union-attr]
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None
