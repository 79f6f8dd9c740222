"""The two engines (DESIGN.md "Database roles"), created without connecting.

READ_DB   logs in as the authenticator, which holds no grants: it can do nothing until a
          request transaction (refresh/db/transaction.py) switches it to `authenticated`
          with the caller's claims. Tenant tables are bound to it (refresh/tenancy/tables.py).
WRITE_DB  logs in as the admin role and bypasses RLS: migrations, CLI commands, system jobs,
          operators. Code reaches it through `write_client` (refresh/db/clients.py).

Nothing here connects at import: an engine's URL is worked out on its first connection
(pool start, or the CLI's first query), and only then is the embedded server started
when no URL is configured.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, cast

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from refresh.db.pool import FairPool
from refresh.db.refusals import log_refusal
from refresh.db.scope import refuse_in_api_request
from refresh.db.timing import time_queries
from settings import Settings, get_settings

WRITE_NODE = "write"
log = logging.getLogger("refresh.db")

#: True while a transaction hands back a connection it has already reset itself.
_ALREADY_RESET: ContextVar[bool] = ContextVar("refresh_already_reset", default=False)


def database_urls(settings: Settings) -> tuple[str, str]:
    """(write, read) URLs: configured ones, or the embedded server's (started if needed)."""
    if settings.write_database_url and settings.read_database_url:
        return settings.write_database_url, settings.read_database_url
    from refresh.db.embedded import embedded_urls

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


def reset_sql(connection: Any) -> str:
    """What a connection runs before it is reused: role back to the login role, session
    state cleared (asyncpg's reset query: RESET ALL, CLOSE ALL, UNLISTEN *, unlocks)."""
    return "RESET ROLE; " + connection.get_reset_query()


async def reset_connection(connection: Any) -> None:
    """The pool's reset on release (belt and braces: role and claims are transaction-local
    anyway), skipped when the transaction sent it together with its COMMIT or ROLLBACK."""
    if not _ALREADY_RESET.get():
        await connection.execute(reset_sql(connection))


class Engine(PostgresEngine):
    """A PostgresEngine whose connection settings are worked out on first use.

    Piccolo's constructor takes a ready config and connects twice (version check,
    extensions): here the config comes from `resolve` when a connection is first needed,
    and `check_version`/`prep_database` (Piccolo's hooks for that start-up work) do
    nothing. We use no extensions; the schema needs PostgreSQL 15+.
    """

    def __init__(
        self,
        resolve: Callable[[], dict[str, Any]],
        extra_nodes: dict[str, PostgresEngine] | None = None,
        bypasses_rls: bool = False,
    ) -> None:
        self._resolve = resolve
        self._resolved: dict[str, Any] | None = None
        # The write engine refuses every query inside an API request, whatever reaches
        # it: write_client, a table class bound to it, `.run(node="write")`,
        # `WRITE_DB.run_querystring(...)` (refresh/db/scope.py).
        self.bypasses_rls = bypasses_rls
        super().__init__(config={}, extra_nodes=extra_nodes)

    @property
    def config(self) -> dict[str, Any]:
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        # PostgresEngine's constructor assigns its (empty) config: a given non-empty one
        # replaces the lazy one (tests pointing an engine elsewhere).
        if value:
            self._resolved = value

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        timeout = get_settings().db_acquire_timeout
        # Every connection times its statements (the request log's database time).
        kwargs.setdefault("init", time_queries)
        pool = await asyncpg.create_pool(**{**self.config, **kwargs})
        self.pool = cast(asyncpg.Pool, FairPool(pool, timeout))

    async def run_querystring(self, querystring: Any, in_pool: bool = True) -> Any:
        if self.bypasses_rls:
            refuse_in_api_request()
        try:
            return await super().run_querystring(querystring, in_pool)
        except asyncpg.InsufficientPrivilegeError as exc:
            log_refusal(exc, str(querystring), self.current_transaction.get())
            raise

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        if self.bypasses_rls:
            refuse_in_api_request()
        return await super().run_ddl(ddl, in_pool)

    async def release(self, connection: Any, *, already_reset: bool = False) -> None:
        """Give a connection back to the pool; `already_reset` skips the pool's reset."""
        assert self.pool is not None
        token = _ALREADY_RESET.set(already_reset)
        try:
            await self.pool.release(connection)
        finally:
            _ALREADY_RESET.reset(token)


def _write_config() -> dict[str, Any]:
    settings = get_settings()
    write_url, _ = database_urls(settings)
    return {
        **engine_config(write_url, settings),
        "server_settings": {"application_name": application_name(sys.argv)},
    }


def _read_config() -> dict[str, Any]:
    settings = get_settings()
    _, read_url = database_urls(settings)
    return engine_config(read_url, settings)


WRITE_DB = Engine(_write_config, bypasses_rls=True)
READ_DB = Engine(_read_config, extra_nodes={WRITE_NODE: WRITE_DB})


async def start_read_pool(
    settings: Settings | None = None, min_size: int | None = None, max_size: int | None = None
) -> None:
    settings = settings or get_settings()
    await READ_DB.start_connection_pool(
        min_size=settings.read_pool_min_size if min_size is None else min_size,
        max_size=settings.read_pool_max_size if max_size is None else max_size,
        reset=reset_connection,
    )


async def close_read_pool() -> None:
    if READ_DB.pool is not None:
        await READ_DB.close_connection_pool()


async def start_write_pool(settings: Settings | None = None) -> None:
    """The app server's write-client pool (admin session lookups, operators' requests)."""
    settings = settings or get_settings()
    await WRITE_DB.start_connection_pool(
        min_size=1, max_size=settings.write_pool_max_size, reset=reset_connection
    )


async def close_write_pool() -> None:
    if WRITE_DB.pool is not None:
        await WRITE_DB.close_connection_pool()


def read_url() -> str:
    """The read client's URL (starts the embedded server when none is configured)."""
    return str(READ_DB.config["dsn"])
