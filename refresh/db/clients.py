"""The write client: system access through the admin role, which bypasses RLS.

It is for CLI commands, migrations, system jobs and operators only; `grep -rn write_client`
lists every use. Request handlers use the tables, which are bound to the read client.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine

from refresh.db.connection import connection_of
from refresh.db.engines import READ_DB, WRITE_DB, WRITE_NODE


class WriteClient:
    """System access through the admin role: bypasses RLS, so use it sparingly."""

    def __init__(self, engine: PostgresEngine, read_engine: PostgresEngine) -> None:
        self.engine = engine
        self.read_engine = read_engine

    async def run(self, query: Any) -> Any:
        """Run a Piccolo query of any table on the write connection."""
        uses_read_engine = query.table._meta.db is self.read_engine
        return await query.run(node=WRITE_NODE if uses_read_engine else None)

    def transaction(self) -> Any:
        """`async with write_client.transaction():` groups write-client queries."""
        return self.engine.transaction()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL on the write connection (joins a write_client.transaction())."""
        async with connection_of(self.engine) as connection:
            rows = await connection.fetch(sql, *args)
        return [dict(row) for row in rows]


write_client = WriteClient(WRITE_DB, READ_DB)
