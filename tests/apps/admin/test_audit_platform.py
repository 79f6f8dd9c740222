"""The audit log's actors and the platform's entries, from two tenants' side: names that
look like another kind of actor stay in their namespace, and the logins' and staff
profiles' sequential ids reach no tenant's staff (their entries are the platform's)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.admin.staff import create_staff
from refresh.db.clients import write_client
from tests.apps.admin.support import (
    PASSWORD,
    AdminSession,
    audit_rows,
    new_staff,
    open_session,
)
from tests.apps.admin.test_audit import two_tenants
from tests.conftest import TenantFixture


@pytest.fixture(scope="module")
async def two(app: Any, client: Any) -> dict[str, Any]:
    return await two_tenants(app, client)


async def test_staff_see_no_login_or_staff_profile_ids(app: Any, two: dict[str, Any]) -> None:
    """Logins and staff profiles are numbered in sequence across the platform: a number
    would tell any tenant's staff how many logins exist and how fast they come. Neither
    staff of either tenant read one: not in their audit log (a staff profile is the
    platform's, like a login), not in the admin's `user` answer."""
    operator: AdminSession = two["operator"]
    for name in ("a", "b"):  # one more staff login per tenant, by an operator this time
        login = await new_staff(two[name]["tenant"].id)
        [profile] = await write_client.fetch(
            "select s.id, s.user_id from staff_profile s join piccolo_user u"
            " on u.id = s.user_id where u.username = $1",
            login,
        )
        entries = await audit_rows(table_name="staff_profile", row_id=str(profile["id"]))
        assert [e["tenant_id"] for e in entries] == [uuid.UUID(int=0)]  # the platform's
    for name in ("a", "b"):
        staff: AdminSession = two[name]["staff"]
        rows = await staff.rows("audit_log")
        assert rows  # their tenant's entries, and only platform-free ones
        assert {r["table_name"] for r in rows}.isdisjoint({"staff_profile", "piccolo_user"})
        for table in ("staff_profile", "piccolo_user"):
            assert await staff.count("audit_log", table_name=table) == 0
        me = await staff.get("/user/")
        assert me.status_code == 200, me.text
        assert me.json() == {"username": staff.username, "user_id": ""}
    # operators still read the platform's entries, and their own id
    assert await operator.count("audit_log", table_name="staff_profile") > 0
    mine = (await operator.get("/user/")).json()
    assert mine["username"] == operator.username and mine["user_id"].isdigit()


async def test_actor_namespaces_hold_from_both_tenants_side(
    app: Any, client: Any, two: dict[str, Any]
) -> None:
    """Names that look like another kind of actor stay in their own namespace: in tenant
    A a member whose user id is `operator:<x>` (API), in tenant B a staff login named
    `operator:<x>` (admin). Neither is recorded as an operator, neither gets an
    operator_action row, and each tenant's staff see only their own tenant's entries."""
    from apps.tenants.operations import ensure_member
    from refresh.web.tokens import issue_token
    from settings import get_settings

    a: TenantFixture = two["a"]["tenant"]
    lookalike = f"operator:{uuid.uuid4().hex[:6]}"
    await ensure_member(a.id, lookalike, "l@x.test", "Lookalike", "member")
    token = issue_token(get_settings(), a.id, lookalike)
    response = await client.patch(
        f"/api/tasks/{two['a']['task']}",
        json={"priority": 2},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    [by_api] = await audit_rows(row_id=two["a"]["task"], actor=f"api:{lookalike}")

    b_staff_name = f"operator:{uuid.uuid4().hex[:6]}"
    await create_staff(b_staff_name, PASSWORD, two["b"]["tenant"].id)
    b_staff = await open_session(app, b_staff_name)
    edited = await b_staff.patch(f"/tables/task/{two['b']['task']}/", {"priority": 2})
    assert edited.status_code == 200, edited.text
    [by_staff] = await audit_rows(row_id=two["b"]["task"], actor=f"staff:{b_staff_name}")

    assert (by_api["via"], by_staff["via"]) == ("api", "admin")
    named = await write_client.fetch(
        "select id from operator_action where id = any($1::uuid[])",
        [by_api["id"], by_staff["id"]],
    )
    assert named == []
    for name, mine, theirs in (("a", by_api, by_staff), ("b", by_staff, by_api)):
        staff: AdminSession = two[name]["staff"]
        seen = {r["id"]: r["actor"] for r in await staff.rows("audit_log")}
        assert seen[str(mine["id"])] == mine["actor"] and "operator" != mine["actor"]
        assert str(theirs["id"]) not in seen


def test_staff_profile_entries_written_before_move_to_the_platform() -> None:
    """The migration that audits staff profiles as the platform's also moves the entries
    written before it (same ids, same content) out of the tenants' logs."""
    from refresh.db.bootstrap import run_psql
    from tests.scratch import scratch_database

    def entries(db: Any) -> list[str]:
        out = run_psql(
            db.env["WRITE_DATABASE_URL"],
            "select 'entry=' || id || ',' || (tenant_id = '00000000-0000-0000-0000-000000000000')"
            " || ',' || md5(changes::text) from audit_log where table_name = 'staff_profile'"
            " order by id",
        )
        lines = [line.strip() for line in out.splitlines()]
        return [line.split("=", 1)[1] for line in lines if line.startswith("entry=")]

    with scratch_database("staffaudit") as db:
        db.piccolo("migrations", "forwards", "all")
        # back to the trigger of before (that migration and any admin migration after it)
        db.piccolo(
            "migrations",
            "backwards",
            "admin",
            "--migration_id=2026-12-03T10:29:04:485523",
            "--auto_agree",
        )
        db.piccolo("tenants", "demo")  # two staff logins, audited in their tenants' logs
        before = entries(db)
        assert len(before) == 2 and all(",false," in e for e in before), before
        # an operator's name of one of them, beside it (operator_action, by its tenant)
        url, first = db.env["WRITE_DATABASE_URL"], before[0].split(",")[0]
        run_psql(
            url,
            "insert into operator_action (id, tenant_id, operator)"
            f" select id, tenant_id, 'operator:o1' from audit_log where id = '{first}'",
        )
        db.piccolo("migrations", "forwards", "all")
        assert entries(db) == [e.replace(",false,", ",true,") for e in before]
        named = run_psql(
            url,
            "select 'op=' || tenant_id || ',' || operator from operator_action"
            f" where id = '{first}'",
        )
        assert "op=00000000-0000-0000-0000-000000000000,operator:o1" in named
