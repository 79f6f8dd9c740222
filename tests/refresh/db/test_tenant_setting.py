"""auth.tenant_id() reads `request.tenant_id`, which auth.begin_request sets from the
claims it is given, in the same statement (migration rls 2026-12-05T20:00). Each tenant's
request sees its own tenant and nothing else; the value cannot leave its literal. That no
pooled connection keeps it: tests/test_guarantees.py."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from refresh.db.claims import Channel, build_claims
from refresh.db.engines import READ_DB
from refresh.db.transaction import BEGIN_REQUEST, RequestTransaction
from settings import get_settings

SEEN = (
    "select auth.tenant_id()::text as tenant_id, "
    "current_setting('request.tenant_id') as setting, "
    "(auth.jwt() ->> 'tenant_id') as claimed"
)


async def seen_in_a_request_of(tenant: Any) -> asyncpg.Record:
    claims = build_claims(
        {"sub": f"{tenant.slug}-member", "tenant_id": str(tenant.id)}, Channel.api
    )
    role = get_settings().authenticated_role
    async with RequestTransaction(READ_DB, claims, role, read_only=True) as transaction:
        row = await transaction.connection.fetchrow(SEEN)
    assert row is not None
    return row


async def test_each_tenants_request_reads_its_own_tenant(app, tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b, tenant_a):  # one pool: A again after B
        row = await seen_in_a_request_of(tenant)
        assert row["tenant_id"] == row["setting"] == row["claimed"] == str(tenant.id)


HOSTILE = [
    "x'; set local role postgres; --",
    "\\' or true --",
    "$$; select 1; $$",
    "🦄 \u2028",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_a_hostile_tenant_claim_stays_a_value(app, value):
    """auth.begin_request quotes the tenant (%L): what a token claims comes back as it
    was, and auth.tenant_id() refuses it as a uuid instead of running any of it."""
    claims = json.dumps({"sub": "someone", "tenant_id": value, "membership": "token"})
    pool = READ_DB.pool
    assert pool is not None
    async with pool.acquire() as connection:
        async with connection.transaction(readonly=True):
            await connection.execute(BEGIN_REQUEST, claims, get_settings().authenticated_role, None)
            assert await connection.fetchval("select current_setting('request.tenant_id')") == value
            assert await connection.fetchval("select current_user") == (
                get_settings().authenticated_role
            )
            with pytest.raises(asyncpg.InvalidTextRepresentationError):
                await connection.fetchval("select auth.tenant_id()")


async def test_claims_without_a_tenant_read_as_no_tenant(app):
    claims = json.dumps({"sub": "someone", "membership": "token"})
    pool = READ_DB.pool
    assert pool is not None
    async with pool.acquire() as connection:
        async with connection.transaction(readonly=True):
            await connection.execute(BEGIN_REQUEST, claims, get_settings().anonymous_role, None)
            assert await connection.fetchval("select auth.tenant_id()") is None
