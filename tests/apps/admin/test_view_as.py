"""Operators view the admin as a tenant's staff (apps/admin/view_as.py): they see that
tenant's rows and nothing of another's, change nothing, and the audit log says they
looked; staff can start no view, and no cookie, query or session column makes one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from apps.admin.gate import AdminSessionResolver, admin_login
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB, WRITE_DB
from settings import get_settings
from tests.apps.admin.support import AdminSession, new_operator, new_staff, open_session
from tests.apps.tasks.support import fresh_tenant, new_project, new_task, table_counts, task_row
from tests.conftest import TenantFixture

VIEW_AS = "/admin/operator/view-as/"
STOP = "/admin/operator/view-as/stop/"


@dataclass
class Side:
    tenant: TenantFixture
    tasks: set[str]
    staff: AdminSession


@pytest.fixture(scope="module")
async def sides(app: Any, client: Any) -> dict[str, Side]:
    made = {}
    for name in ("a", "b"):
        tenant = await fresh_tenant(f"view-{name}")
        project = (await new_project(client, tenant, f"view-{name} project"))["id"]
        tasks = {
            (await new_task(client, tenant, project, title=f"view-{name} task {i}"))["id"]
            for i in range(2)
        }
        made[name] = Side(tenant, tasks, await open_session(app, await new_staff(tenant.id)))
    return made


async def operator_session(app: Any) -> AdminSession:
    return await open_session(app, await new_operator())


async def start_view(session: AdminSession, tenant_id: Any) -> httpx.Response:
    return await session.client.post(VIEW_AS, data={"tenant": str(tenant_id)})


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {str(r["id"]) for r in rows}


async def view_entries(tenant_id: Any, action: str = "view") -> list[dict[str, Any]]:
    return await write_client.fetch(
        "select a.actor, a.via, a.table_name, a.row_id, a.changes, o.operator"
        " from audit_log a"
        " left join operator_action o on o.id = a.id and o.tenant_id = a.tenant_id"
        " where a.tenant_id = $1 and a.action = $2",
        tenant_id,
        action,
    )


async def viewing(username: str) -> set[Any]:
    rows = await write_client.fetch(
        "select s.viewing from sessions s join piccolo_user u on u.id = s.user_id"
        " where u.username = $1",
        username,
    )
    return {r["viewing"] for r in rows}


async def sees_both(operator: Any, a: Side, b: Side) -> bool:
    """A's and B's tasks, each read by its tenant (the whole table outgrows one page
    when other tests ran first)."""
    seen = [ids(await operator.rows("task", tenant_id=str(s.tenant.id))) for s in (a, b)]
    return a.tasks <= seen[0] and b.tasks <= seen[1]


async def test_an_operator_viewing_as_a_sees_a_only_and_the_audit_log_says_so(
    app: Any, sides: dict[str, Side]
) -> None:
    a, b = sides["a"], sides["b"]
    operator = await operator_session(app)
    assert await sees_both(operator, a, b)  # every tenant

    started = await start_view(operator, a.tenant.id)
    assert started.status_code == 303, started.text
    assert started.headers["location"] == "/admin/"

    assert ids(await operator.rows("task")) == a.tasks
    assert await operator.count("task") == len(a.tasks)
    assert ids(await operator.rows("tenant")) == {str(a.tenant.id)}
    assert ids(await operator.rows("task", tenant_id=str(b.tenant.id))) == set()
    for task in b.tasks:
        assert (await operator.get(f"/tables/task/{task}/")).status_code == 404
    # the staff site: no logins, staff profiles or operator forms
    assert set((await operator.get("/tables/")).json()) == set(
        (await a.staff.get("/tables/")).json()
    )
    assert (await operator.get("/tables/piccolo_user/")).status_code == 404
    assert (await operator.get("/forms/")).json() == []
    page = await operator.client.get("/admin/")
    assert f"Viewing the admin as tenant <b>{a.tenant.slug}</b>" in page.text
    # what the tenant's staff see, the operator sees: the same rows
    assert ids(await operator.rows("audit_log")) == ids(await a.staff.rows("audit_log"))

    [entry] = await view_entries(a.tenant.id)
    assert (entry["actor"], entry["via"]) == ("operator", "operator")
    assert entry["operator"] == f"operator:{operator.username}"
    assert (entry["table_name"], entry["row_id"]) == ("tenant", str(a.tenant.id))
    assert await view_entries(b.tenant.id) == []

    stopped = await operator.client.post(STOP)
    assert stopped.status_code == 303
    [ended] = await view_entries(a.tenant.id, "view_end")
    assert ended["operator"] == f"operator:{operator.username}" and ended["via"] == "operator"
    assert await view_entries(b.tenant.id, "view_end") == []
    assert (await operator.client.post(STOP)).status_code == 303  # no view: nothing to end
    assert len(await view_entries(a.tenant.id, "view_end")) == 1
    assert await sees_both(operator, a, b)
    assert (await operator.get("/tables/piccolo_user/")).status_code == 200
    assert "Viewing the admin" not in (await operator.client.get("/admin/")).text


async def test_a_view_is_read_only_and_a_write_says_why(app: Any, sides: dict[str, Side]) -> None:
    a = sides["a"]
    operator = await operator_session(app)
    assert (await start_view(operator, a.tenant.id)).status_code == 303
    task = sorted(a.tasks)[0]
    before, counts = await task_row(task), await table_counts()
    body = {"title": "written while viewing", "project_id": str(before and before["project_id"])}
    for response in (
        await operator.patch(f"/tables/task/{task}/", {"title": "changed while viewing"}),
        await operator.post("/tables/task/", {**body, "status": "todo", "priority": 2}),
        await operator.delete(f"/tables/task/{task}/"),
        await operator.client.put(f"/admin/api/tables/task/{task}/", json=body),
    ):
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "read_only"
        assert error["message"].startswith(
            f"you are viewing the admin as tenant {a.tenant.slug}, read-only: nothing was changed"
        )
    assert await task_row(task) == before
    assert await table_counts() == counts


async def test_the_transaction_of_a_view_is_read_only_whatever_reaches_it(
    app: Any, sides: dict[str, Side]
) -> None:
    """Behind the gate's refusal of writes: the database refuses them too."""
    a = sides["a"]
    operator = await operator_session(app)
    assert (await start_view(operator, a.tenant.id)).status_code == 303
    login = await admin_login(operator.client.cookies["id"])
    assert login is not None and login.view is not None
    view = login.view
    assert view.tenant_id == a.tenant.id
    resolver = AdminSessionResolver(
        *(object(), object(), object()),  # type: ignore[arg-type]  # no site is run
        write_engine=WRITE_DB,
        read_engine=READ_DB,
        role=get_settings().authenticated_role,
    )
    route = resolver.view_route(login, view, read_only=False)  # a write, read-only view
    assert route.transaction is not None
    task = sorted(a.tasks)[0]
    before = await task_row(task)
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        async with route.transaction as transaction:
            assert await transaction.connection.fetchval("select auth.tenant_id()") == a.tenant.id
            await transaction.connection.execute(
                # the tenant named, as every request query does (routing on Citus)
                "update task set title = 'x' where id = $1 and tenant_id = $2",
                uuid.UUID(task),
                a.tenant.id,
            )
    assert await task_row(task) == before


async def test_staff_cannot_start_a_view(app: Any, sides: dict[str, Side]) -> None:
    b = sides["b"]
    for tenant in (sides["a"].tenant, b.tenant):
        before = await view_entries(tenant.id)
        response = await start_view(b.staff, tenant.id)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
        # the same answer as for the operators' other pages
        assert (await b.staff.get("/tables/piccolo_user/")).status_code == 404
        assert (await b.staff.client.post(STOP)).status_code == 404
        assert await view_entries(tenant.id) == before
    assert await viewing(b.staff.username) == {None}
    assert ids(await b.staff.rows("task")) == b.tasks


async def test_no_cookie_query_or_session_column_makes_staff_view_another_tenant(
    app: Any, sides: dict[str, Side]
) -> None:
    a, b = sides["a"], sides["b"]
    other = str(a.tenant.id)
    b.staff.client.cookies.set("viewing", other)
    b.staff.client.cookies.set("view_as", other)
    try:
        assert ids(await b.staff.rows("task")) == b.tasks
        forged = await b.staff.get("/tables/task/", viewing=other, view_as=other)
        assert forged.status_code == 400  # piccolo-api takes no parameter it does not know
        assert not a.tasks & set(forged.text.split('"'))
        page = await b.staff.client.get("/admin/", params={"viewing": other, "view_as": other})
        assert "Viewing the admin" not in page.text
        # Even the server-side choice, written straight into the staff's session row,
        # does nothing: the gate honours it for operators only.
        await write_client.fetch(
            "update sessions set viewing = $1 where user_id ="
            " (select id from piccolo_user where username = $2)",
            a.tenant.id,
            b.staff.username,
        )
        assert ids(await b.staff.rows("task")) == b.tasks
        assert ids(await b.staff.rows("tenant")) == {str(b.tenant.id)}
        page = await b.staff.client.get("/admin/")
        assert "Viewing the admin" not in page.text and a.tenant.slug not in page.text
    finally:
        b.staff.client.cookies.delete("viewing")
        b.staff.client.cookies.delete("view_as")
        await write_client.fetch(
            "update sessions set viewing = null where user_id ="
            " (select id from piccolo_user where username = $1)",
            b.staff.username,
        )


async def test_starting_a_view_needs_the_csrf_token_and_a_real_tenant(
    app: Any, sides: dict[str, Side]
) -> None:
    operator = await operator_session(app)
    csrf = operator.client.headers.pop("X-CSRFToken")
    forged = await operator.client.post(VIEW_AS, data={"tenant": str(sides["a"].tenant.id)})
    assert forged.status_code == 403, forged.text
    form = await operator.client.post(
        VIEW_AS, data={"tenant": str(sides["a"].tenant.id), "csrftoken": csrf}
    )
    assert form.status_code == 303, form.text  # the token as a form field: a real form
    await operator.client.post(STOP, data={"csrftoken": csrf})
    operator.client.headers["X-CSRFToken"] = csrf
    for tenant in ("", "not-a-uuid", str(uuid.uuid4())):
        response = await operator.client.post(VIEW_AS, data={"tenant": tenant})
        assert response.status_code == 422, response.text
        assert "Traceback" not in response.text
    assert await viewing(operator.username) == {None}


async def test_a_view_of_an_erased_tenant_ends_by_itself(app: Any, client: Any) -> None:
    operator = await operator_session(app)
    tenant = await fresh_tenant("view-gone")
    assert (await start_view(operator, tenant.id)).status_code == 303
    assert ids(await operator.rows("tenant")) == {str(tenant.id)}
    await write_client.fetch("delete from member where tenant_id = $1", tenant.id)
    await write_client.fetch("delete from tenant where id = $1", tenant.id)
    assert (await operator.get("/tables/piccolo_user/")).status_code == 200  # operator again
