"""SQL run the way a request runs it: on the read login role, in a transaction opened by
auth.begin_request under a tenant member's claims (as the app's middleware does)."""

from __future__ import annotations

import json

import asyncpg

from tests.conftest import TenantFixture
from tests.database import test_database


async def as_request(tenant: TenantFixture, sql: str) -> list[asyncpg.Record]:
    """`sql` on a new read-role session (so new connections to the workers on Citus)
    under tenant's claims."""
    connection = await asyncpg.connect(test_database().read_url)
    try:
        async with connection.transaction():
            claims = json.dumps({"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)})
            await connection.execute(
                "select auth.begin_request($1, $2, null)", claims, "authenticated"
            )
            return await connection.fetch(sql)
    finally:
        await connection.close()
