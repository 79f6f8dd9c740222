"""Helpers for hand-written SQL migrations.

Migrations keep their SQL literally in the migration file (so it can be reviewed and
never changes after it ran); role names are the only parameters, written as
{admin}, {authenticator}, {authenticated}, {anonymous} and filled in from settings.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from refresh.db.connection import connection_of
from refresh.db.sql import quote_ident, quote_literal, statements
from settings import get_settings

PLACEHOLDER = re.compile(r"\{(admin|authenticator|authenticated|anonymous)(_literal)?\}")


def render(sql: str) -> str:
    """Fill in {role} (an identifier) and {role_literal} (a string) for each role; any
    other brace in the script stays as it is (e.g. a '{}' array literal)."""
    settings = get_settings()
    roles = {
        "admin": settings.admin_role,
        "authenticator": settings.authenticator_role,
        "authenticated": settings.authenticated_role,
        "anonymous": settings.anonymous_role,
    }
    values = {key: quote_ident(name) for key, name in roles.items()}
    values.update({f"{key}_literal": quote_literal(name) for key, name in roles.items()})
    return PLACEHOLDER.sub(lambda m: values[m[0][1:-1]], sql)


@asynccontextmanager
async def migration_connection() -> AsyncIterator[Any]:
    """The connection of the running migration's transaction (piccolo_conf.DB's)."""
    engine = engine_finder()
    assert isinstance(engine, PostgresEngine), "piccolo_conf.DB must be a PostgresEngine"
    async with connection_of(engine) as connection:
        yield connection


async def execute(sql: str) -> None:
    """Run a script inside the migration's transaction, one statement at a time (see
    statements()); a script of comments only (an adopted change) runs nothing."""
    async with migration_connection() as connection:
        for statement in statements(render(sql)):
            await connection.execute(statement)


def raw_migration(
    migration_id: str,
    app_name: str,
    description: str,
    forwards: Callable[[], Awaitable[None]],
    backwards: Callable[[], Awaitable[None]],
) -> MigrationManager:
    """A Piccolo migration that runs one coroutine function forwards, another backwards,
    each inside the migration's transaction."""
    manager = MigrationManager(
        migration_id=migration_id, app_name=app_name, description=description
    )
    manager.add_raw(forwards)
    manager.add_raw_backwards(backwards)
    return manager


def sql_migration(
    migration_id: str, app_name: str, description: str, forwards_sql: str, backwards_sql: str
) -> MigrationManager:
    """A Piccolo migration that runs one SQL script forwards and another backwards."""

    async def run() -> None:
        await execute(forwards_sql)

    async def run_backwards() -> None:
        await execute(backwards_sql)

    return raw_migration(migration_id, app_name, description, run, run_backwards)
