"""The admin from two tenants' side: tenant staff see and change their tenant only, on
every admin endpoint (lists, counts, pickers, detail by URL, filters, writes); operators
see everyone; logins that are neither get nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.support import (
    PASSWORD,
    AdminSession,
    login,
    new_operator,
    new_plain_admin,
    new_staff,
    open_session,
)
from tests.apps.tasks.support import fresh_tenant, new_project, new_task, task_row
from tests.conftest import TenantFixture


@dataclass
class Side:
    tenant: TenantFixture
    staff: AdminSession
    project: str
    tasks: list[str]
    members: set[str]


@dataclass
class World:
    a: Side
    b: Side
    operator: AdminSession


async def make_side(app: Any, client: Any, prefix: str, n_tasks: int) -> Side:
    tenant = await fresh_tenant(prefix)
    project = (await new_project(client, tenant, f"{prefix} project"))["id"]
    tasks = [
        (await new_task(client, tenant, project, title=f"{prefix} task {i}"))["id"]
        for i in range(n_tasks)
    ]
    members = {
        str(r["id"])
        for r in await write_client.fetch("select id from member where tenant_id = $1", tenant.id)
    }
    staff = await open_session(app, await new_staff(tenant.id))
    return Side(tenant, staff, project, tasks, members)


@pytest.fixture(scope="module")
async def world(app: Any, client: Any) -> World:
    a = await make_side(app, client, "adm-a", 3)
    b = await make_side(app, client, "adm-b", 2)
    return World(a, b, await open_session(app, await new_operator()))


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {str(r["id"]) for r in rows}


async def test_staff_lists_and_counts_show_their_tenant_only(world: World) -> None:
    for side, other in ((world.a, world.b), (world.b, world.a)):
        tasks = await side.staff.rows("task", __readable="true")
        assert ids(tasks) == set(side.tasks)
        # foreign keys show the row they point at by name, not by UUID
        prefix = side.tenant.slug.rsplit("-", 1)[0]  # fresh_tenant("adm-a") -> adm-a-<hex>
        assert {t["project_id_readable"] for t in tasks} == {f"{prefix} project"}
        assert await side.staff.count("task") == len(side.tasks)
        assert ids(await side.staff.rows("project")) == {side.project}
        assert ids(await side.staff.rows("member")) == side.members
        assert ids(await side.staff.rows("tenant")) == {str(side.tenant.id)}
        assert await side.staff.count("tenant") == 1
        # Filtering on the other tenant's id finds nothing rather than an error.
        assert await side.staff.rows("task", tenant_id=str(other.tenant.id)) == []
        assert await side.staff.count("task", tenant_id=str(other.tenant.id)) == 0


async def test_staff_foreign_key_pickers_offer_their_tenant_only(world: World) -> None:
    for side in (world.a, world.b):
        projects = await side.staff.get("/tables/project/ids/")
        assert projects.status_code == 200
        assert set(projects.json()) == {side.project}
        members = await side.staff.get("/tables/member/ids/", search="")
        assert set(members.json()) == side.members
        tenants = await side.staff.get("/tables/tenant/ids/")
        assert set(tenants.json()) == {str(side.tenant.id)}


async def test_a_detail_page_of_another_tenant_reveals_nothing(world: World) -> None:
    foreign = world.b.tasks[0]
    before = await task_row(foreign)
    for path in (f"/tables/task/{foreign}/", f"/tables/task/{foreign}/?__readable=true"):
        response = await world.a.staff.get(path)
        assert response.status_code == 404
        assert "adm-b" not in response.text
    missing = await world.a.staff.get(f"/tables/task/{uuid.uuid4()}/")
    assert missing.status_code == 404  # the same answer as for a row that does not exist
    patched = await world.a.staff.patch(f"/tables/task/{foreign}/", {"title": "taken"})
    deleted = await world.a.staff.delete(f"/tables/task/{foreign}/")
    assert patched.status_code == 404 and deleted.status_code == 404
    assert await task_row(foreign) == before


async def test_staff_create_rows_in_their_own_tenant_whatever_the_form_says(
    world: World,
) -> None:
    body = {
        "title": "made in the admin",
        "project_id": world.a.project,
        "tenant_id": str(world.b.tenant.id),  # ignored: pinned to the staff's tenant
        "status": "todo",
        "priority": 2,
        "description": "",
        "tags": [],
    }
    response = await world.a.staff.post("/tables/task/", body)
    assert response.status_code == 201, response.text
    created = str(response.json()[0]["id"])
    row = await task_row(created)
    assert row is not None and row["tenant_id"] == world.a.tenant.id
    assert created not in ids(await world.b.staff.rows("task"))


async def test_pointing_a_row_at_another_tenants_row_is_refused_like_a_missing_one(
    world: World,
) -> None:
    task = world.a.tasks[0]
    before = await task_row(task)
    foreign = await world.a.staff.patch(f"/tables/task/{task}/", {"project_id": world.b.project})
    missing = await world.a.staff.patch(f"/tables/task/{task}/", {"project_id": str(uuid.uuid4())})
    assert foreign.status_code == missing.status_code == 422, foreign.text
    assert foreign.json() == missing.json()
    assert "select" not in foreign.text.lower() and "Traceback" not in foreign.text
    assert await task_row(task) == before


async def test_staff_cannot_change_the_tenant_row_or_reach_logins(world: World) -> None:
    tenant = str(world.a.tenant.id)
    response = await world.a.staff.patch(f"/tables/tenant/{tenant}/", {"name": "renamed"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    for table in ("piccolo_user", "sessions", "staff_profile"):
        assert (await world.a.staff.get(f"/tables/{table}/")).status_code == 404


async def test_operators_see_every_tenant(world: World) -> None:
    # per tenant: a list without an order is by id (piccolo-api's default; the UI sends
    # its own order), so among the suite's other tasks these could fall past one page
    for side in (world.a, world.b):
        tasks = ids(await world.operator.rows("task", tenant_id=str(side.tenant.id)))
        assert set(side.tasks) <= tasks
    tenants = ids(await world.operator.rows("tenant"))
    assert {str(world.a.tenant.id), str(world.b.tenant.id)} <= tenants
    logins = {r["username"] for r in await world.operator.rows("piccolo_user")}
    assert {world.a.staff.username, world.b.staff.username} <= logins
    detail = await world.operator.get(f"/tables/task/{world.b.tasks[0]}/")
    assert detail.status_code == 200


async def test_operators_and_staff_get_different_sites(world: World) -> None:
    tables_staff = set((await world.a.staff.get("/tables/")).json())
    tables_operator = set((await world.operator.get("/tables/")).json())
    assert tables_staff == {"tenant", "member", "project", "task", "comment", "audit_log"}
    assert tables_operator == tables_staff | {"piccolo_user", "staff_profile"}


async def test_a_login_that_is_neither_operator_nor_staff_gets_nothing(app: Any) -> None:
    session = await open_session(app, await new_plain_admin())
    response = await session.get("/tables/task/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_a_wrong_password_gives_no_session(app: Any, world: World) -> None:
    response = await login(app, world.a.staff.username, PASSWORD + "x")
    assert response.status_code == 401
    assert "id" not in response.cookies


async def test_without_a_session_the_admin_api_answers_401(client: Any) -> None:
    response = await client.get("/admin/api/tables/task/")
    assert response.status_code == 401
    page = await client.get("/admin/")
    assert page.status_code == 200  # the single-page app, which shows its login form


async def test_request_roles_have_no_grant_on_logins_or_sessions() -> None:
    rows = await write_client.fetch(
        """select r.rolname, t.relname,
                  has_table_privilege(r.rolname, t.oid, 'select,insert,update,delete') as any
             from pg_roles r cross join pg_class t
            where r.rolname in ('authenticated', 'anonymous', 'refresh_authenticator')
              and t.relname in ('piccolo_user', 'sessions', 'staff_profile')"""
    )
    assert len(rows) == 9 and not any(r["any"] for r in rows), rows


async def test_staff_cannot_move_a_row_to_another_tenant(world: World) -> None:
    task = world.a.tasks[1]
    response = await world.a.staff.patch(
        f"/tables/task/{task}/", {"tenant_id": str(world.b.tenant.id), "priority": 4}
    )
    assert response.status_code == 200, response.text
    row = await task_row(task)
    assert row is not None and row["tenant_id"] == world.a.tenant.id and row["priority"] == 4


async def test_saving_the_edit_form_changes_only_what_was_edited(world: World) -> None:
    """The form sends every field back, its times cut to whole seconds."""
    task = world.a.tasks[2]
    await write_client.fetch(
        "update task set due_at = '2030-01-02 03:04:05.678901+00' where id = $1", uuid.UUID(task)
    )
    before = await task_row(task)
    assert before is not None
    form = {
        "title": "edited in the form",
        "created_at": before["created_at"].replace(microsecond=0).isoformat(),
        "updated_at": before["updated_at"].replace(microsecond=0).isoformat(),
        "due_at": "2030-01-02T03:04:05.000Z",
        "priority": before["priority"],
        "status": before["status"],
    }
    response = await world.a.staff.patch(f"/tables/task/{task}/", form)
    assert response.status_code == 200, response.text
    after = await task_row(task)
    assert after is not None and after["title"] == "edited in the form"
    assert after["created_at"] == before["created_at"]
    assert after["due_at"] == before["due_at"]
    # a real change of a time is kept
    response = await world.a.staff.patch(
        f"/tables/task/{task}/", {"due_at": "2030-02-01T00:00:00.000Z"}
    )
    after = await task_row(task)
    assert after is not None and after["due_at"].isoformat() == "2030-02-01T00:00:00+00:00"


async def test_a_filter_on_a_column_with_choices_matches_the_choice_exactly(
    world: World,
) -> None:
    todo = {
        r["id"]
        for r in await write_client.fetch(
            "select id::text from task where tenant_id = $1 and status = 'todo'", world.a.tenant.id
        )
    }
    assert todo
    assert ids(await world.a.staff.rows("task", status="todo")) == todo
    assert await world.a.staff.count("task", status="todo") == len(todo)
    # piccolo-api's default would be ILIKE '%do%': every todo (and done) task
    assert await world.a.staff.rows("task", status="do") == []
    # free text columns keep the substring match
    titled = {
        r["id"]
        for r in await write_client.fetch(
            "select id::text from task where tenant_id = $1 and title ilike '%a task%'",
            world.a.tenant.id,
        )
    }
    assert titled and ids(await world.a.staff.rows("task", title="a task")) == titled


async def test_put_is_refused_so_no_edit_skips_the_form_checks(world: World) -> None:
    task = world.a.tasks[0]
    before = await task_row(task)
    assert before is not None
    body = {"title": "put", "created_at": "2001-01-01T00:00:00Z", "project_id": world.a.project}
    response = await world.a.staff.client.put(f"/admin/api/tables/task/{task}/", json=body)
    assert response.status_code == 405
    assert await task_row(task) == before


async def test_a_new_rows_timestamps_are_the_servers(world: World) -> None:
    body = {
        "title": "backdated",
        "project_id": world.a.project,
        "status": "todo",
        "priority": 3,
        "description": "",
        "tags": [],
        "created_at": "2001-01-01T00:00:00Z",
    }
    response = await world.a.staff.post("/tables/task/", body)
    assert response.status_code == 201, response.text
    row = await task_row(str(response.json()[0]["id"]))
    assert row is not None and row["created_at"].year >= 2026


async def test_an_unknown_filter_is_a_400_not_a_server_error(world: World) -> None:
    for path in ("/tables/task/", "/tables/task/count/"):
        response = await world.a.staff.get(path, nonexistent="1")
        assert response.status_code == 400, response.text


async def test_saving_a_logins_edit_form_keeps_its_last_login(world: World) -> None:
    """A login's last_login (a time without zone) comes back from the form cut to whole
    seconds, like the other times: saving the form keeps the stored one."""
    username = await new_staff(world.a.tenant.id)
    stamp = "2030-01-02 03:04:05.678901"
    await write_client.fetch(
        f"update piccolo_user set last_login = '{stamp}' where username = $1", username
    )
    row = (await write_client.fetch("select id from piccolo_user where username = $1", username))[0]
    form = {"active": False, "last_login": "2030-01-02T03:04:05"}
    response = await world.operator.patch(f"/tables/piccolo_user/{row['id']}/", form)
    assert response.status_code == 200, response.text
    after = await write_client.fetch(
        "select active, last_login::text as last_login from piccolo_user where id = $1", row["id"]
    )
    assert (after[0]["active"], after[0]["last_login"]) == (False, stamp)
