"""The staff's text filters read in index order (apps/admin/gate.py, filters_text): under
RLS the planner guesses an ILIKE's matches from the term alone, and on a large tenant it
sorted every match for a page of 25 (bench/NOTES.md). Other lists keep their sorts; each
tenant's filter finds its own rows only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apps.admin.support import new_staff, open_session
from tests.apps.tasks.support import fresh_tenant, new_project, new_task


@pytest.fixture
def sorting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """enable_sort in each request transaction, once it has started."""
    from refresh.db.transaction import RequestTransaction

    seen: list[str] = []
    original = RequestTransaction.start

    async def start(self: RequestTransaction, connection: Any) -> None:
        await original(self, connection)
        seen.append(await connection.fetchval("select current_setting('enable_sort')"))

    monkeypatch.setattr(RequestTransaction, "start", start)
    return seen


async def test_a_text_filter_reads_in_index_order_for_each_tenant(
    app: Any, client: Any, sorting: list[str]
) -> None:
    sides = []
    for prefix in ("plan-a", "plan-b"):
        tenant = await fresh_tenant(prefix)
        project = (await new_project(client, tenant, f"{prefix} project"))["id"]
        titles = [f"{prefix} invoice {i}" for i in range(3)] + [f"{prefix} other"]
        for title in titles:
            await new_task(client, tenant, project, title=title)
        sides.append((prefix, await open_session(app, await new_staff(tenant.id))))
    for prefix, staff in sides:
        sorting.clear()
        found = await staff.rows("task", title="invoice", title__match="contains", __order="-id")
        assert sorted(r["title"] for r in found) == [f"{prefix} invoice {i}" for i in range(3)]
        assert await staff.count("task", title="invoice", title__match="contains") == 3
        assert sorting == ["off", "off"]
        sorting.clear()
        assert len(await staff.rows("task")) == 4
        assert len(await staff.rows("task", status="todo")) == 4
        assert sorting == ["on", "on"]
        await staff.client.aclose()
