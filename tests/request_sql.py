"""SQL run the way a request runs it: on the read login role, in a transaction opened by
auth.begin_request under a tenant member's claims (as the app's middleware does), on a
new session (so, on Citus, new connections to the workers)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from settings import get_settings
from tests.database import test_database


@asynccontextmanager
async def request_transaction(tenant: Any) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside the request transaction of `tenant`'s member (begin_request
    refuses anyone who is not a member)."""
    connection = await asyncpg.connect(test_database().read_url)
    try:
        async with connection.transaction():
            claims = json.dumps({"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)})
            await connection.execute(
                "select auth.begin_request($1, $2, null)",
                claims,
                get_settings().authenticated_role,
            )
            yield connection
    finally:
        await connection.close()


async def as_request(tenant: Any, sql: str) -> list[asyncpg.Record]:
    """The rows of `sql` in a request transaction of `tenant`."""
    async with request_transaction(tenant) as connection:
        return await connection.fetch(sql)
