"""Raw SQL on an engine: inside its current transaction if one is open, else on a
connection of its own (closed afterwards). For system code, CLI commands, migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.postgres import PostgresEngine


@asynccontextmanager
async def connection_of(engine: PostgresEngine) -> AsyncIterator[Any]:
    transaction = engine.current_transaction.get()
    if transaction is not None:
        yield transaction.connection
        return
    connection = await engine.get_new_connection()
    try:
        yield connection
    finally:
        await connection.close()
