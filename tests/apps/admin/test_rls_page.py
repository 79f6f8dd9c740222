"""The operators' RLS status page (apps/admin/pages.py, rls_page.py): the rows of
`piccolo rls status`, for operators only; tenant staff (of either tenant), other logins
and visitors get the 404 of any operator page."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.apps.admin.support import new_operator, new_plain_admin, new_staff, open_session
from tests.conftest import TenantFixture
from tests.database import piccolo

PAGE = "/admin/operator/rls-status/"


def without_estimates(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Row estimates move when autovacuum analyses a table between two reads."""
    return [{k: v for k, v in t.items() if k != "estimated_rows"} for t in tables]


async def test_the_page_shows_what_piccolo_rls_status_prints(app: Any) -> None:
    operator = await open_session(app, await new_operator())
    response = await operator.client.get(PAGE, params={"format": "json"})
    assert response.status_code == 200, response.text
    page = response.json()["tables"]
    cli = json.loads(piccolo("rls", "status", "--json").stdout)["tables"]
    assert without_estimates(page) == without_estimates(cli)
    by_table = {t["table"]: t for t in page}
    assert by_table["task"]["audited"] is True and by_table["sessions"]["audited"] is False

    html = await operator.client.get(PAGE)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    for table in cli:
        assert f'<tr data-table="{table["table"]}">' in html.text
    row = re.search(r'<tr data-table="task">(.*?)</tr>', html.text)
    assert row is not None
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1))
    assert cells[:6] == ["tasks", "task", "tenant", "yes", "yes", "yes"], cells
    assert "tenant_isolation_select" in row.group(1) and "auth.tenant_id()" in row.group(1)
    assert "authenticated: delete,insert,select,update" in row.group(1)
    sessions = re.search(r'<tr data-table="sessions">(.*?)</tr>', html.text)
    assert sessions is not None and "none (deny all to request roles)" in sessions.group(1)


async def not_found_like_an_operator_page(client: httpx.AsyncClient) -> None:
    for path in (PAGE, PAGE + "?format=json"):
        response = await client.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
        assert "policies" not in response.text and "tenant_isolation" not in response.text


@pytest.mark.parametrize("side", ["a", "b"])
async def test_staff_of_either_tenant_get_not_found(
    app: Any, side: str, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    tenant = tenant_a if side == "a" else tenant_b
    staff = await open_session(app, await new_staff(tenant.id))
    await not_found_like_an_operator_page(staff.client)
    # the answer an operator's table gives them too
    assert (await staff.get("/tables/piccolo_user/")).status_code == 404


async def test_other_logins_and_visitors_get_not_found(app: Any, client: Any) -> None:
    nobody = await open_session(app, await new_plain_admin())
    await not_found_like_an_operator_page(nobody.client)
    await not_found_like_an_operator_page(client)
