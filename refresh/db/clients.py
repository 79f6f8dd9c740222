"""The write client: system access through the admin role, which bypasses RLS.

It is for CLI commands, migrations, system jobs and operators only; `grep -rn write_client`
lists every use. Request handlers use the tables, which are bound to the read client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from refresh.db.connection import connection_of
from refresh.db.engines import READ_DB, WRITE_DB, WRITE_NODE
from refresh.db.scope import refuse_in_request, system_action


class WriteClient:
    """System access through the admin role: bypasses RLS, so use it sparingly. It refuses
    to run inside a tenant's request transaction unless told why (`outside_request`)."""

    def __init__(self, engine: PostgresEngine, read_engine: PostgresEngine) -> None:
        self.engine = engine
        self.read_engine = read_engine

    async def run(self, query: Any) -> Any:
        """Run a Piccolo query of any table on the write connection."""
        refuse_in_request()
        uses_read_engine = query.table._meta.db is self.read_engine
        return await query.run(node=WRITE_NODE if uses_read_engine else None)

    def transaction(self) -> Any:
        """`async with write_client.transaction():` groups write-client queries."""
        refuse_in_request()
        return self.engine.transaction()

    def outside_request(self, reason: str) -> AbstractContextManager[None]:
        """`with write_client.outside_request("why"):` lets system code use the write
        client inside a request on purpose; `grep -rn outside_request` lists every use."""
        return system_action(reason)

    def connection(self) -> AbstractAsyncContextManager[Any]:
        """`async with write_client.connection() as connection:` an asyncpg connection of
        its own (or the open write_client.transaction()'s), for system code that needs
        what Piccolo's queries do not offer: an isolation level, a server-side cursor."""
        refuse_in_request()
        return connection_of(self.engine)

    @asynccontextmanager
    async def own_connection(self) -> AsyncIterator[Any]:
        """A new connection even inside a write_client.transaction() or an operator's
        transaction: for a snapshot of its own (an export), closed afterwards."""
        refuse_in_request()
        connection = await self.engine.get_new_connection()
        try:
            yield connection
        finally:
            await connection.close()

    async def execute(self, script: str) -> None:
        """A script of statements, no parameters, on the write connection (joins a
        write_client.transaction())."""
        refuse_in_request()
        async with connection_of(self.engine) as connection:
            await connection.execute(script)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL on the write connection (joins a write_client.transaction())."""
        refuse_in_request()
        async with connection_of(self.engine) as connection:
            rows = await connection.fetch(sql, *args)
        return [dict(row) for row in rows]


write_client = WriteClient(WRITE_DB, READ_DB)
