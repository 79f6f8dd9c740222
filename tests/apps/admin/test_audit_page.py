"""The audit log as the admin shows it (apps/admin/audit.py): operators read a tenant by its
slug (and filter by it from a list of slugs), staff see no other tenant's name; filters by
table, actor and time work on both sites, within what each may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.support import AdminSession, new_operator, new_staff, open_session
from tests.apps.tasks.support import fresh_tenant, new_project, new_task
from tests.conftest import TenantFixture

NO_TENANT = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
async def two(app: Any, client: Any) -> dict[str, Any]:
    sides: dict[str, Any] = {}
    for name in ("a", "b"):
        tenant = await fresh_tenant(f"auditpage-{name}")
        project = (await new_project(client, tenant, f"auditpage-{name} project"))["id"]
        task = (await new_task(client, tenant, project, title=f"auditpage-{name} task"))["id"]
        staff = await open_session(app, await new_staff(tenant.id))
        response = await staff.patch(f"/tables/task/{task}/", {"title": "renamed by staff"})
        assert response.status_code == 200, response.text
        sides[name] = {"tenant": tenant, "task": task, "staff": staff}
    sides["operator"] = await open_session(app, await new_operator())
    return sides


async def schema(session: AdminSession) -> dict[str, Any]:
    response = await session.get("/tables/audit_log/schema/")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def choices(schema: dict[str, Any], column: str) -> dict[str, str]:
    """value -> label, as piccolo-admin shows a cell of the column."""
    found = schema["properties"][column]["extra"]["choices"] or {}
    return {c["value"]: c["display_name"] for c in found.values()}


async def test_operators_read_each_tenant_by_its_slug(two: dict[str, Any]) -> None:
    a: TenantFixture = two["a"]["tenant"]
    b: TenantFixture = two["b"]["tenant"]
    shown = await schema(two["operator"])
    tenants = choices(shown, "tenant_id")
    assert tenants[str(a.id)] == a.slug and tenants[str(b.id)] == b.slug
    assert tenants[NO_TENANT] == "(no tenant)"  # the logins' entries
    assert {"task", "project", "tenant", "piccolo_user"} <= set(choices(shown, "table_name"))
    # the list still carries the stored id, which the filter sends back
    rows = await two["operator"].rows("audit_log", tenant_id=str(a.id))
    assert rows and {r["tenant_id"] for r in rows} == {str(a.id)}


async def test_staff_see_no_other_tenants_name_or_id(two: dict[str, Any]) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        shown = await schema(two[name]["staff"])
        assert "tenant_id" not in shown["properties"]  # pinned: theirs
        text = str(shown)
        assert two[other]["tenant"].slug not in text and str(two[other]["tenant"].id) not in text
        assert "task" in choices(shown, "table_name")


async def expected(where: str, *args: Any) -> set[str]:
    rows = await write_client.fetch(f"select id::text from audit_log where {where}", *args)
    return {r["id"] for r in rows}


@pytest.mark.parametrize("who", ["operator", "a"])
async def test_filters_by_table_actor_and_time(two: dict[str, Any], who: str) -> None:
    session: AdminSession = two[who] if who == "operator" else two[who]["staff"]
    a: TenantFixture = two["a"]["tenant"]
    own = "true" if who == "operator" else f"tenant_id = '{a.id}'"

    by_table = await session.rows("audit_log", table_name="project", tenant_id=str(a.id))
    assert {r["id"] for r in by_table} == await expected(
        f"{own} and table_name = 'project' and tenant_id = $1", a.id
    )
    assert by_table

    actor = two["a"]["staff"].username
    by_actor = await session.rows("audit_log", actor=actor)
    assert {r["id"] for r in by_actor} == await expected(f"{own} and actor = $1", f"staff:{actor}")
    assert [r["action"] for r in by_actor] == ["update"]

    [entry] = await write_client.fetch(
        "select created_at from audit_log where actor = $1", f"staff:{actor}"
    )
    since = entry["created_at"].astimezone(UTC).replace(microsecond=0)
    # Within A's entries: the operator's whole log outgrows one page when other tests ran first.
    of_a = {"tenant_id": str(a.id)}
    newer = await session.rows(
        "audit_log", created_at=since.isoformat(), created_at__operator="gte", **of_a
    )
    assert {r["id"] for r in newer} == await expected(
        "tenant_id = $1 and created_at >= $2", a.id, since
    )
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await session.rows("audit_log", created_at=future, created_at__operator="gte") == []
    older = await session.rows(
        "audit_log", created_at=since.isoformat(), created_at__operator="lt", **of_a
    )
    assert {r["id"] for r in older} == await expected(
        "tenant_id = $1 and created_at < $2", a.id, since
    )
    assert newer  # the staff update, at least
