"""An operator's view of a tenant ends when the tenant is erased, and when an import
replaces it: the same tenant id coming back does not bring the view (or its writes) back.
Another operator's view of another tenant is untouched."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from apps.admin.gate import admin_login
from refresh.db.clients import write_client
from refresh.lifecycle.export import export_tenant
from refresh.lifecycle.restore import import_tenant
from tests.apps.admin.support import AdminSession, new_operator, open_session
from tests.refresh.lifecycle.support import generated_tenant, run_cli

VIEW_AS = "/admin/operator/view-as/"


async def view_with_changes(app: Any, tenant_id: uuid.UUID) -> AdminSession:
    operator = await open_session(app, await new_operator())
    started = await operator.client.post(VIEW_AS, data={"tenant": str(tenant_id), "writes": "1"})
    assert started.status_code == 303, started.text
    return operator


async def session_view(operator: AdminSession) -> tuple[Any, bool]:
    [row] = await write_client.fetch(
        "select viewing, viewing_writes from sessions where token = $1",
        operator.client.cookies["id"],
    )
    return row["viewing"], row["viewing_writes"]


async def view_entries(tenant_id: uuid.UUID) -> int:
    rows = await write_client.fetch(
        "select count(*) as n from audit_log where tenant_id = $1 and action = 'view'", tenant_id
    )
    return int(rows[0]["n"])


async def assert_not_viewing(operator: AdminSession, slug: str) -> None:
    """The gate sees no view: the operators' site (every tenant), no banner."""
    assert await session_view(operator) == (None, False)
    login = await admin_login(operator.client.cookies["id"])
    assert login is not None and login.operator and login.view is None
    assert (
        f"Viewing the admin as tenant <b>{slug}</b>"
        not in (await operator.client.get("/admin/")).text
    )
    # the operators' own tables: the staff site (a view) has none
    assert (await operator.get("/tables/piccolo_user/")).status_code == 200


async def assert_still_viewing(operator: AdminSession, tenant_id: uuid.UUID, slug: str) -> None:
    assert await session_view(operator) == (tenant_id, True)
    login = await admin_login(operator.client.cookies["id"])
    assert login is not None and login.view is not None and login.view.tenant_id == tenant_id
    page = await operator.client.get("/admin/")
    assert f"Viewing the admin as tenant <b>{slug}</b>" in page.text
    assert {r["tenant_id"] for r in await operator.rows("project")} == {str(tenant_id)}


async def test_erase_then_import_ends_the_view_of_that_tenant_only(
    app: Any, tmp_path: Path
) -> None:
    slug_a, slug_b = (f"ve{side}-{uuid.uuid4().hex[:6]}" for side in "ab")
    a, b = await generated_tenant(slug_a, tasks=3), await generated_tenant(slug_b, tasks=3)
    on_a, on_b = await view_with_changes(app, a), await view_with_changes(app, b)
    assert await session_view(on_a) == (a, True)
    saved = tmp_path / f"{slug_a}.jsonl.gz"
    await export_tenant(slug_a, saved)

    for command in (("erase", slug_a), ("import", str(saved))):  # as the reviewer ran them
        run = run_cli("tenants", *command)
        assert run.returncode == 0, run.stderr
    assert await view_entries(a) == 1  # the import brought back the entry of the view...

    await assert_not_viewing(on_a, slug_a)  # ...but not the view, nor its writes
    await assert_still_viewing(on_b, b, slug_b)
    assert await view_entries(b) == 1


async def test_an_import_that_replaces_the_tenant_ends_its_views(app: Any, tmp_path: Path) -> None:
    slug_a, slug_b = (f"vr{side}-{uuid.uuid4().hex[:6]}" for side in "ab")
    a, b = await generated_tenant(slug_a, tasks=3), await generated_tenant(slug_b, tasks=3)
    saved = tmp_path / f"{slug_a}.jsonl.gz"
    await export_tenant(slug_a, saved)
    on_a, on_b = await view_with_changes(app, a), await view_with_changes(app, b)

    await import_tenant(saved, replace=True)

    await assert_not_viewing(on_a, slug_a)
    await assert_still_viewing(on_b, b, slug_b)


async def test_a_view_of_an_erased_tenant_cannot_start(app: Any) -> None:
    slug = f"vx-{uuid.uuid4().hex[:6]}"
    erased = await generated_tenant(slug, tasks=1)
    operator = await open_session(app, await new_operator())
    run = run_cli("tenants", "erase", slug)
    assert run.returncode == 0, run.stderr
    refused = await operator.client.post(VIEW_AS, data={"tenant": str(erased), "writes": "1"})
    assert refused.status_code == 422
    assert "there is no such tenant" in refused.text
    assert await session_view(operator) == (None, False)
