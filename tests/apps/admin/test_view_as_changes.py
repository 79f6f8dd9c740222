"""An operator's view as a tenant with changes (chosen when it starts): they change what
the tenant's staff may, through RLS, and nothing of another tenant's; every change, and
the view itself, is audited with the operator as its actor."""

from __future__ import annotations

from typing import Any

from refresh.db.clients import write_client
from tests.apps.admin.support import new_operator, open_session
from tests.apps.tasks.support import fresh_tenant, new_project, new_task, task_row

VIEW_AS = "/admin/operator/view-as/"
STOP = "/admin/operator/view-as/stop/"


async def entries(tenant_id: Any, action: str) -> list[dict[str, Any]]:
    return await write_client.fetch(
        "select a.actor, a.via, a.table_name, a.row_id, a.changes, o.operator"
        " from audit_log a"
        " left join operator_action o on o.id = a.id and o.tenant_id = a.tenant_id"
        " where a.tenant_id = $1 and a.action = $2 order by a.created_at",
        tenant_id,
        action,
    )


async def test_an_operator_viewing_with_changes_changes_that_tenant_only(
    app: Any, client: Any
) -> None:
    a, b = await fresh_tenant("change-a"), await fresh_tenant("change-b")
    a_project = (await new_project(client, a, "a project"))["id"]
    a_task = (await new_task(client, a, a_project, title="a task"))["id"]
    b_task = (
        await new_task(client, b, (await new_project(client, b, "b project"))["id"], title="b")
    )["id"]
    operator = await open_session(app, await new_operator())
    started = await operator.client.post(VIEW_AS, data={"tenant": str(a.id), "writes": "1"})
    assert started.status_code == 303, started.text
    page = (await operator.client.get("/admin/")).text
    assert f"as tenant <b>{a.slug}</b>, as its staff see it (with changes" in page
    assert "data-read-only" not in page  # the write buttons stay
    [view] = await entries(a.id, "view")
    assert view["operator"] == f"operator:{operator.username}"
    assert '"read_only": false' in view["changes"]

    changed = await operator.patch(f"/tables/task/{a_task}/", {"title": "by the operator"})
    assert changed.status_code == 200, changed.text
    assert (await task_row(a_task))["title"] == "by the operator"
    created = await operator.post(
        "/tables/task/",
        {
            "title": "made in the view",
            "project_id": a_project,
            "tenant_id": str(b.id),  # ignored: pinned to the viewed tenant
            "status": "todo",
            "priority": 2,
            "description": "",
            "tags": [],
        },
    )
    assert created.status_code == 201, created.text
    [made] = await write_client.fetch(
        "select tenant_id from task where title = 'made in the view' and project_id = $1",
        a_project,
    )
    assert made["tenant_id"] == a.id
    before = await task_row(b_task)
    other = await operator.patch(f"/tables/task/{b_task}/", {"title": "not B's"})
    assert other.status_code == 404, other.text
    assert await task_row(b_task) == before

    [update] = [e for e in await entries(a.id, "update") if e["row_id"] == a_task]
    assert (update["actor"], update["via"]) == ("operator", "operator")  # as the view's
    assert update["operator"] == f"operator:{operator.username}"
    assert await entries(b.id, "update") == []

    assert (await operator.client.post(STOP)).status_code == 303
    [ended] = await entries(a.id, "view_end")
    assert '"read_only": false' in ended["changes"]
    # the next view is read-only again unless chosen
    assert (await operator.client.post(VIEW_AS, data={"tenant": str(a.id)})).status_code == 303
    refused = await operator.patch(f"/tables/task/{a_task}/", {"title": "again"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "read_only"
