"""The two database clients (DESIGN.md "Database roles").

READ_DB   logs in as the authenticator, which holds no grants: it can do nothing until a
          request transaction (apps/rls/transaction.py) switches it to `authenticated`
          with the caller's claims. Every table here is bound to it (apps/rls/base.py),
          so a request handler uses it without asking for it.
write_client  logs in as the admin role and bypasses RLS. It is for CLI commands,
          migrations and system jobs only; `grep -rn write_client` lists every use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from apps.rls.connection import connection_of
from apps.rls.transaction import CONNECTION_RESET, reset_sql
from settings import Settings, get_settings

WRITE_NODE = "write"


def database_urls(settings: Settings) -> tuple[str, str]:
    """(write, read) URLs: configured ones, or the embedded server's (started if needed)."""
    if settings.write_database_url and settings.read_database_url:
        return settings.write_database_url, settings.read_database_url
    from apps.rls.embedded import embedded_urls

    return embedded_urls(settings)


def engine_config(url: str, settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {"dsn": url, "timeout": settings.db_acquire_timeout}
    if settings.pgbouncer:
        # PgBouncer in transaction mode hands each transaction to any server
        # connection: a prepared statement cached on one is missing on the next.
        config["statement_cache_size"] = 0
    return config


def application_name(argv: list[str]) -> str:
    """How the write client's connections name themselves: the audit log's actor for
    changes made outside a request (e.g. `refresh: piccolo tenants create`)."""
    words = [os.path.basename(argv[0]) if argv else "python"]
    if words[0] == "piccolo":
        words += [a for a in argv[1:3] if not a.startswith("-")]
    return ("refresh: " + " ".join(words))[:63]


class Engine(PostgresEngine):
    """A PostgresEngine that does not connect while it is constructed.

    Piccolo's constructor connects twice (version check, extensions) at import time:
    a cost for every process, and a warning before the first migration, when the
    authenticator role does not exist yet. We use no extensions; the schema needs
    PostgreSQL 15+ (ON DELETE SET NULL (column) in the tasks migration).
    """

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        # Piccolo waits for a pooled connection forever; a busy pool must become a 503
        # (TimeoutError) after DB_ACQUIRE_TIMEOUT, not a request that hangs.
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire(timeout=get_settings().db_acquire_timeout) as connection:
            return await connection.fetch(query, *(args or []))


class WriteClient:
    """System access through the admin role: bypasses RLS, so use it sparingly."""

    def __init__(self, engine: PostgresEngine, read_engine: PostgresEngine) -> None:
        self.engine = engine
        self._read_engine = read_engine

    async def run(self, query: Any) -> Any:
        """Run a Piccolo query of any table on the write connection."""
        uses_read_engine = query.table._meta.db is self._read_engine
        return await query.run(node=WRITE_NODE if uses_read_engine else None)

    def transaction(self) -> Any:
        """`async with write_client.transaction():` groups write-client queries."""
        return self.engine.transaction()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL on the write connection (joins a write_client.transaction())."""
        async with connection_of(self.engine) as connection:
            rows = await connection.fetch(sql, *args)
        return [dict(row) for row in rows]


_settings = get_settings()
WRITE_URL, READ_URL = database_urls(_settings)
WRITE_DB = Engine(
    config={
        **engine_config(WRITE_URL, _settings),
        "server_settings": {"application_name": application_name(sys.argv)},
    }
)
READ_DB = Engine(config=engine_config(READ_URL, _settings), extra_nodes={WRITE_NODE: WRITE_DB})
write_client = WriteClient(WRITE_DB, READ_DB)


async def reset_connection(connection: Any) -> None:
    """Pool reset (belt and braces: role and claims are transaction-local anyway), unless
    the request transaction already sent it with its COMMIT or ROLLBACK."""
    if not CONNECTION_RESET.get():
        await connection.execute(reset_sql(connection))


async def start_read_pool(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    await READ_DB.start_connection_pool(
        min_size=settings.read_pool_min_size,
        max_size=settings.read_pool_max_size,
        reset=reset_connection,
    )


async def close_read_pool() -> None:
    if READ_DB.pool is not None:
        await READ_DB.close_connection_pool()


async def start_write_pool(settings: Settings | None = None) -> None:
    """The app server's write-client pool (admin session lookups, operators' requests)."""
    settings = settings or get_settings()
    await WRITE_DB.start_connection_pool(min_size=1, max_size=settings.write_pool_max_size)


async def close_write_pool() -> None:
    if WRITE_DB.pool is not None:
        await WRITE_DB.close_connection_pool()
