"""Membership is checked on every request, in the statement that opens it
(auth.begin_request): a valid token whose subject is not a current member of its tenant,
or not with the role it claims, is refused with 403 not_a_member, from the next request on
after a removal or a demotion; nothing it sent is written. Another tenant's member
cannot use its id with this tenant's tenant_id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from apps.tenants.operations import ensure_member
from refresh.db.claims import TenantRole
from refresh.web.tokens import issue_token
from settings import get_settings
from tests.apps.tasks.support import assert_error, fresh_tenant, member_id, table_counts


def bearer(tenant_id: Any, user: str, role: TenantRole = TenantRole.member) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(get_settings(), tenant_id, user, role)}"}


async def new_member(tenant_id: Any, role: str = "member") -> str:
    user = f"u-{uuid.uuid4().hex[:8]}"
    await ensure_member(tenant_id, user, f"{user}@x.test", "Someone", role)
    return user


async def refused(client: Any, headers: dict[str, str]) -> None:
    before = await table_counts()
    assert_error(await client.get("/api/projects", headers=headers), 403, "not_a_member")
    write = await client.post("/api/projects", json={"name": "x"}, headers=headers)
    assert_error(write, 403, "not_a_member")
    assert await table_counts() == before


async def test_a_subject_that_is_no_member_is_refused(client: Any) -> None:
    a = await fresh_tenant("mem-a")
    await refused(client, bearer(a.id, "stranger"))
    assert (await client.get("/api/projects", headers=a.headers)).status_code == 200


async def test_a_member_of_another_tenant_cannot_use_this_tenants_id(client: Any) -> None:
    a, b = await fresh_tenant("mem-a"), await fresh_tenant("mem-b")
    for here, there in ((a, b), (b, a)):
        user = await new_member(there.id, "admin")
        at_home = await client.get("/api/projects", headers=bearer(there.id, user))
        assert at_home.status_code == 200
        await refused(client, bearer(here.id, user))
        await refused(client, bearer(here.id, user, TenantRole.admin))


async def test_removing_a_member_takes_effect_on_the_next_request(client: Any) -> None:
    a = await fresh_tenant("mem-a")
    user = await new_member(a.id)
    headers = bearer(a.id, user)
    assert (await client.get("/api/projects", headers=headers)).status_code == 200
    gone = await client.delete(
        f"/api/members/{await member_id(a, user)}",
        headers={"Authorization": f"Bearer {a.admin_token}"},
    )
    assert gone.status_code == 204, gone.text
    await refused(client, headers)


async def test_a_demoted_admin_keeps_only_a_members_access(client: Any) -> None:
    a = await fresh_tenant("mem-a")
    user = await new_member(a.id, "admin")
    as_admin, as_member = bearer(a.id, user, TenantRole.admin), bearer(a.id, user)
    assert (await client.get("/api/projects", headers=as_admin)).status_code == 200
    demoted = await client.patch(
        f"/api/members/{await member_id(a, user)}",
        json={"role": "member"},
        headers={"Authorization": f"Bearer {a.admin_token}"},
    )
    assert demoted.status_code == 200, demoted.text
    await refused(client, as_admin)
    assert (await client.get("/api/projects", headers=as_member)).status_code == 200


async def test_a_token_cannot_switch_the_check_off(client: Any) -> None:
    a = await fresh_tenant("mem-a")
    settings = get_settings()
    assert settings.jwt_secret is not None
    payload = {
        "sub": "stranger",
        "tenant_id": str(a.id),
        "membership": "token",
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    await refused(client, {"Authorization": f"Bearer {token}"})


@pytest.fixture
def trusting_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app with MEMBERSHIP_CHECK=false (the pools are the test session's)."""
    from app import create_app

    monkeypatch.setenv("MEMBERSHIP_CHECK", "false")
    get_settings.cache_clear()
    try:
        assert get_settings().membership_check is False
        yield create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_with_the_check_off_the_token_alone_decides(trusting_app: Any) -> None:
    a, b = await fresh_tenant("mem-a"), await fresh_tenant("mem-b")
    transport = httpx.ASGITransport(app=trusting_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        stranger = bearer(a.id, "idp-user")
        made = await client.post("/api/projects", json={"name": "idp"}, headers=stranger)
        assert made.status_code == 201, made.text
        # still inside its tenant: tenant B sees nothing of it
        listed = await client.get("/api/projects", headers=b.headers)
        assert made.json()["id"] not in {p["id"] for p in listed.json()["data"]}
