"""A staff session is checked against its staff profile and login on every request, as an
API token is against its membership: moving, removing or deactivating a staff login
takes effect on its next request, with the session cookie it already holds."""

from __future__ import annotations

from typing import Any

from refresh.db.clients import write_client
from tests.apps.admin.support import new_staff, open_session

OF_LOGIN = "user_id = (select id from piccolo_user where username = $1)"


async def members_of(tenant_id: Any) -> set[str]:
    rows = await write_client.fetch("select id from member where tenant_id = $1", tenant_id)
    return {str(r["id"]) for r in rows}


async def test_a_staff_login_follows_its_profile_on_its_next_request(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    username = await new_staff(tenant_a.id)
    session = await open_session(app, username)
    assert {r["id"] for r in await session.rows("member")} == await members_of(tenant_a.id)

    moved = f"update staff_profile set tenant_id = $2 where {OF_LOGIN}"
    await write_client.fetch(moved, username, tenant_b.id)  # to tenant B
    assert {r["id"] for r in await session.rows("member")} == await members_of(tenant_b.id)

    await write_client.fetch(f"delete from staff_profile where {OF_LOGIN}", username)
    removed = await session.get("/tables/member/")
    assert removed.status_code == 403, removed.text
    assert removed.json()["error"]["code"] == "forbidden"


async def test_a_deactivated_staff_login_is_refused_on_its_next_request(
    app: Any, tenant_a: Any
) -> None:
    username = await new_staff(tenant_a.id)
    session = await open_session(app, username)
    assert (await session.get("/tables/task/")).status_code == 200
    await write_client.fetch("update piccolo_user set active = false where username = $1", username)
    refused = await session.get("/tables/task/")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "unauthorized"
