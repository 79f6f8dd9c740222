"""Guarantees that each layer alone must keep (issue 15, item 11): each test here passes
today and fails when its one guarantee is removed, even with the other layers intact.

1. Claims and role are transaction-local (`set local` in auth.begin_request): gone after
   COMMIT and after ROLLBACK on a connection that never goes through the pool's reset.
2. The pool resets a connection on release: clean even after a handler left session-level
   state behind (which `set local` alone would not undo). The reset normally goes out
   with the COMMIT; when the COMMIT fails, the pool's own reset is what remains.
3. A token without `tenant_role` is a plain member: it cannot write members.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import asyncpg
import jwt
import pytest

from refresh.db.engines import READ_DB
from settings import get_settings
from tests.apps.tasks.support import fresh_tenant, table_counts
from tests.database import test_database


async def test_claims_and_role_end_with_the_transaction_without_any_reset(
    tenant_a: Any,
) -> None:
    settings = get_settings()
    claims = json.dumps({"sub": f"{tenant_a.slug}-member", "tenant_id": str(tenant_a.id)})
    connection = await asyncpg.connect(test_database().read_url)  # no pool: no reset
    try:
        for end in ("commit", "rollback"):
            await connection.execute("begin")
            await connection.execute(
                "select auth.begin_request($1, $2, null)", claims, settings.authenticated_role
            )
            inside = await connection.fetchrow(
                "select current_user as role, auth.tenant_id() as tenant"
            )
            assert (inside["role"], inside["tenant"]) == (settings.authenticated_role, tenant_a.id)
            await connection.execute(end)
            after = await connection.fetchrow(
                "select current_user as role, "
                "coalesce(current_setting('request.jwt.claims', true), '') as claims, "
                "coalesce(current_setting('request.tenant_id', true), '') as tenant"
            )
            assert (after["role"], after["claims"], after["tenant"]) == (
                settings.authenticator_role,
                "",
                "",
            ), end
    finally:
        await connection.close()


async def pool_connections() -> list[dict[str, Any]]:
    pool = READ_DB.pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        return [
            dict(
                await c.fetchrow(
                    "select current_user as role, "
                    "coalesce(current_setting('request.jwt.claims', true), '') as claims, "
                    "coalesce(current_setting('request.tenant_id', true), '') as tenant"
                )
            )
            for c in connections
        ]
    finally:
        for c in connections:
            await pool.release(c)


async def test_a_pooled_connection_is_clean_after_a_handler_left_session_state(
    client: Any, tenant_a: Any, tenant_b: Any
) -> None:
    settings = get_settings()
    for _ in range(3):
        response = await client.post(
            "/api/_test/leave-session-state",
            params={"tenant_id": str(tenant_b.id)},
            headers=tenant_a.headers,
        )
        assert response.status_code == 200, response.text
    for state in await pool_connections():
        assert state == {"role": settings.authenticator_role, "claims": "", "tenant": ""}
    # and the next request of tenant A sees A's rows only, not B's
    mine = await client.get("/api/_test/session", headers=tenant_a.headers)
    assert mine.json()["tenant_id"] == str(tenant_a.id)


async def test_the_pools_reset_cleans_a_connection_whose_commit_failed(tenant_a: Any) -> None:
    """A COMMIT that fails (a deferred constraint) skips the reset sent with it; what the
    session kept through the rollback (here a session advisory lock) is then cleared by
    the pool's reset on release, and by nothing else."""
    from refresh.db.claims import Channel, build_claims
    from refresh.db.clients import write_client
    from refresh.db.transaction import RequestTransaction

    settings = get_settings()
    claims = build_claims(
        {"sub": f"{tenant_a.slug}-member", "tenant_id": str(tenant_a.id)}, Channel.api
    )
    key = uuid.uuid4().int % 2**62
    await write_client.fetch(
        "create table zz_commit_fails (id int primary key deferrable initially deferred)"
    )
    await write_client.fetch(f"grant insert on zz_commit_fails to {settings.authenticated_role}")
    try:
        transaction = RequestTransaction(READ_DB, claims, settings.authenticated_role, False)
        with pytest.raises(asyncpg.UniqueViolationError):
            async with transaction:
                connection = transaction.connection
                await connection.execute("select pg_advisory_lock($1)", key)
                await connection.execute("insert into zz_commit_fails values (1), (1)")
        taken = await write_client.fetch("select pg_try_advisory_lock($1) as ok", key)
        await write_client.fetch("select pg_advisory_unlock_all()")
    finally:
        await write_client.fetch("drop table zz_commit_fails")
    assert taken == [{"ok": True}]  # the pooled connection no longer holds it
    for state in await pool_connections():
        assert state == {"role": settings.authenticator_role, "claims": "", "tenant": ""}


async def test_a_token_without_tenant_role_cannot_write_members(client: Any) -> None:
    tenant = await fresh_tenant("no-role")
    settings = get_settings()
    assert settings.jwt_secret is not None
    payload = {  # the tenant's admin member, but the token says no role at all
        "sub": f"{tenant.slug}-admin",
        "tenant_id": str(tenant.id),
        "exp": int(time.time()) + 60,
    }
    headers = {"Authorization": f"Bearer {jwt.encode(payload, settings.jwt_secret, 'HS256')}"}
    before = await table_counts()
    user = f"u-{uuid.uuid4().hex[:6]}"
    created = await client.post(
        "/api/members",
        json={"user_id": user, "email": f"{user}@x.test", "display_name": "New"},
        headers=headers,
    )
    assert created.status_code == 403, created.text
    listed = (await client.get("/api/members", headers=headers)).json()["data"]
    assert listed, "a member's read still works"
    target = next(m for m in listed if m["user_id"] == f"{tenant.slug}-member")
    promoted = await client.patch(
        f"/api/members/{target['id']}", json={"role": "admin"}, headers=headers
    )
    assert promoted.status_code in (403, 404), promoted.text
    assert await table_counts() == before
