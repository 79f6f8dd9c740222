"""The audit log: every write, whoever makes it (API, tenant staff, operator, CLI), is
recorded with who, when, tenant, table, row and changed fields; it is append-only, and
each tenant's staff read their tenant's entries only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
from piccolo.apps.user.tables import BaseUser

from refresh.db.clients import write_client
from tests.apps.admin.support import (
    AdminSession,
    audit_rows,
    login,
    new_operator,
    new_staff,
    open_session,
)
from tests.apps.tasks.support import fresh_tenant, new_project, new_task
from tests.conftest import TenantFixture
from tests.database import piccolo
from tests.request_sql import request_transaction


def changes(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry["changes"]
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
async def two(app: Any, client: Any) -> dict[str, Any]:
    return await two_tenants(app, client)


async def two_tenants(app: Any, client: Any) -> dict[str, Any]:
    """Tenants a and b (a project, a task and a staff session each) and an operator."""
    sides: dict[str, Any] = {}
    for name in ("a", "b"):
        tenant = await fresh_tenant(f"aud-{name}")
        project = (await new_project(client, tenant, f"aud-{name} project"))["id"]
        task = (await new_task(client, tenant, project, title=f"aud-{name} task"))["id"]
        staff = await open_session(app, await new_staff(tenant.id))
        sides[name] = {"tenant": tenant, "project": project, "task": task, "staff": staff}
    sides["operator"] = await open_session(app, await new_operator())
    return sides


async def test_an_api_write_is_recorded_with_the_tokens_subject(two: dict[str, Any]) -> None:
    tenant: TenantFixture = two["a"]["tenant"]
    [entry] = await audit_rows(table_name="task", row_id=two["a"]["task"], action="insert")
    assert entry["actor"] == f"api:{tenant.slug}-member"
    assert entry["via"] == "api"
    assert entry["tenant_id"] == tenant.id
    assert changes(entry)["title"] == "aud-a task"


async def test_a_staff_edit_records_only_the_changed_field(two: dict[str, Any]) -> None:
    staff: AdminSession = two["a"]["staff"]
    task = two["a"]["task"]
    response = await staff.patch(f"/tables/task/{task}/", {"title": "renamed by staff"})
    assert response.status_code == 200, response.text
    [entry] = await audit_rows(table_name="task", row_id=task, action="update")
    assert entry["actor"] == f"staff:{staff.username}"
    assert entry["via"] == "admin"
    assert entry["tenant_id"] == two["a"]["tenant"].id
    # updated_at moved too, but it is bookkeeping, not a change anyone made
    assert changes(entry) == {"title": {"old": "aud-a task", "new": "renamed by staff"}}


async def test_operator_changes_name_the_operator_to_operators_only(two: dict[str, Any]) -> None:
    operator: AdminSession = two["operator"]
    task = two["b"]["task"]
    response = await operator.patch(f"/tables/task/{task}/", {"priority": 1})
    assert response.status_code == 200, response.text
    [entry] = await audit_rows(table_name="task", row_id=task, action="update")
    assert entry["actor"] == "operator"  # what the tenant's staff read
    assert entry["via"] == "operator"
    [named] = await write_client.fetch(
        "select operator, tenant_id from operator_action where id = $1", entry["id"]
    )
    assert named["operator"] == f"operator:{operator.username}"
    # beside its entry: on Citus, on the tenant's node, where the shard's trigger writes
    assert named["tenant_id"] == entry["tenant_id"]
    # staff read their tenant's entries, and not who of the operators made them
    staff: AdminSession = two["b"]["staff"]
    rows = await staff.rows("audit_log", row_id=task)
    assert rows and {r["actor"] for r in rows if r["via"] == "operator"} == {"operator"}
    assert operator.username not in str(rows)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_tenant(two["b"]["tenant"], "select * from operator_action")
    assert entry["tenant_id"] == two["b"]["tenant"].id
    assert changes(entry)["priority"] == {"old": 3, "new": 1}


async def test_a_delete_keeps_the_deleted_row(client: Any, two: dict[str, Any]) -> None:
    tenant: TenantFixture = two["a"]["tenant"]
    task = (await new_task(client, tenant, two["a"]["project"], title="short-lived"))["id"]
    response = await client.delete(f"/api/tasks/{task}", headers=tenant.headers)
    assert response.status_code == 204
    [entry] = await audit_rows(table_name="task", row_id=task, action="delete")
    assert changes(entry)["title"] == "short-lived"


async def test_cli_writes_are_recorded_with_the_command() -> None:
    slug = f"aud-cli-{uuid.uuid4().hex[:6]}"
    tenant_id = piccolo("tenants", "create", slug).stdout.strip()
    [entry] = await audit_rows(table_name="tenant", row_id=tenant_id)
    assert entry["actor"] == "system:refresh: piccolo tenants create"
    assert entry["via"] == "write client"
    assert str(entry["tenant_id"]) == tenant_id
    assert changes(entry)["slug"] == slug


async def test_staff_read_their_tenants_entries_only(two: dict[str, Any]) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        staff: AdminSession = two[name]["staff"]
        rows = await staff.rows("audit_log")
        mine = await audit_rows(tenant_id=two[name]["tenant"].id)
        assert {r["id"] for r in rows} == {str(r["id"]) for r in mine}
        assert rows and all(r["tenant_id"] == str(two[name]["tenant"].id) for r in rows)
        foreign = await audit_rows(tenant_id=two[other]["tenant"].id)
        detail = await staff.get(f"/tables/audit_log/{foreign[0]['id']}/")
        assert detail.status_code == 404


async def test_the_audit_log_is_read_only_in_the_admin(two: dict[str, Any]) -> None:
    [entry] = await audit_rows(table_name="task", row_id=two["a"]["task"], action="insert")
    path = f"/tables/audit_log/{entry['id']}/"
    for session in (two["a"]["staff"], two["operator"]):
        assert (await session.patch(path, {"actor": "someone else"})).status_code == 405
        assert (await session.delete(path)).status_code == 405
        body = {"actor": "x", "via": "x", "table_name": "x", "row_id": "x", "action": "x"}
        assert (await session.post("/tables/audit_log/", body)).status_code == 405
    assert await audit_rows(id=entry["id"]) == [entry]


async def as_tenant(tenant: TenantFixture, *statements: str) -> None:
    """Run SQL as the request role with tenant's claims, as a request transaction does."""
    async with request_transaction(tenant) as connection:
        for statement in statements:
            await connection.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into audit_log (id, actor, via, table_name, row_id, action, changes)"
        " values (gen_random_uuid(), 'x', 'x', 'x', 'x', 'x', '{}')",
        "update audit_log set actor = 'nobody'",
        "delete from audit_log",
        "truncate audit_log",
        "select audit_change()",
    ],
)
async def test_request_roles_cannot_write_the_audit_log(
    two: dict[str, Any], statement: str
) -> None:
    before = await write_client.fetch("select count(*) as n from audit_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_tenant(two["a"]["tenant"], statement)
    assert await write_client.fetch("select count(*) as n from audit_log") == before


async def test_a_request_cannot_pose_as_an_operator(two: dict[str, Any]) -> None:
    task = two["a"]["task"]
    await as_tenant(
        two["a"]["tenant"],
        "set local refresh.actor = 'operator:evil'",
        # the tenant named, as every request query does (routing/Citus)
        f"update task set priority = 5 where id = '{task}'"
        f" and tenant_id = '{two['a']['tenant'].id}'",
    )
    member = f"{two['a']['tenant'].slug}-member"
    [entry] = await audit_rows(
        table_name="task", row_id=task, action="update", actor=f"api:{member}"
    )
    assert entry["via"] == "api"


async def test_a_request_cannot_turn_the_audit_off(two: dict[str, Any]) -> None:
    """`refresh.audit = off` is the write client's, for a tenant import (which restores
    the file's entries itself): a request setting it is still recorded."""
    task = two["a"]["task"]
    await as_tenant(
        two["a"]["tenant"],
        "set local refresh.audit = 'off'",
        f"update task set priority = 4 where id = '{task}'"
        f" and tenant_id = '{two['a']['tenant'].id}'",
    )
    member = f"{two['a']['tenant'].slug}-member"
    entries = await audit_rows(
        table_name="task", row_id=task, action="update", actor=f"api:{member}"
    )
    assert any(changes(e).get("priority", {}).get("new") == 4 for e in entries)


async def test_logins_are_audited_without_their_password(app: Any) -> None:
    username = await new_operator()
    user_id = (await BaseUser.select(BaseUser.id).where(BaseUser.username == username))[0]["id"]
    [entry] = await audit_rows(table_name="piccolo_user", row_id=str(user_id))
    assert changes(entry)["password"] == "(hidden)"
    assert entry["tenant_id"] == uuid.UUID(int=0)  # no tenant: the nil uuid, never NULL
    # a login updates last_login only: bookkeeping, not an entry
    assert (await login(app, username)).status_code == 200
    assert len(await audit_rows(table_name="piccolo_user", row_id=str(user_id))) == 1


async def test_a_token_cannot_pose_as_the_admin_in_the_audit_log(client: Any) -> None:
    from refresh.web.tokens import issue_token
    from settings import get_settings

    tenant = await fresh_tenant("aud-forge")
    project = (await new_project(client, tenant, "forge project"))["id"]
    # a member whose user id looks like an operator (membership is checked per request)
    from apps.tenants.operations import ensure_member

    await ensure_member(tenant.id, "operator:alice", "alice@x.test", "Alice", "member")
    settings = get_settings()
    token = issue_token(settings, tenant.id, f"{tenant.slug}-member", "member")
    import jwt

    payload = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    forged = jwt.encode(
        {**payload, "sub": "operator:alice", "via": "operator"}, settings.jwt_secret, "HS256"
    )
    response = await client.patch(
        f"/api/projects/{project}",
        json={"name": "renamed"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code == 200, response.text
    [entry] = await audit_rows(table_name="project", row_id=project, action="update")
    assert entry["via"] == "api"  # the channel is the server's to say
    assert entry["actor"] == "api:operator:alice"  # and the namespace too


async def test_a_request_cannot_shadow_the_audit_log_with_a_temporary_table(
    two: dict[str, Any],
) -> None:
    """A temporary table would be found first by name, and outlive the request on a
    pooled connection: request roles may not create one."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_tenant(two["a"]["tenant"], "create temporary table audit_log (id int)")
    [row] = await write_client.fetch(
        "select array_to_string(proconfig, ',') as config from pg_proc"
        " where proname = 'audit_change'"
    )
    assert row["config"].endswith("pg_temp")
