"""The admin's CSV export (built by piccolo-admin in the browser from list pages of 1000):
a text cell that a spreadsheet would run as a formula comes out neutralised, for the
operator (every tenant's rows) and for staff; the ordinary list shows the text as
stored; another tenant's staff do not see the row at all."""

from __future__ import annotations

from typing import Any

from tests.apps.admin.support import new_operator, new_staff, open_session
from tests.apps.tasks.support import fresh_tenant, new_project, new_task

# (the API trims titles, so tab and CR starts are covered by the compat test)
FORMULAS = ['=HYPERLINK("http://x.test","y")', "+1+1", "-2+3", "@SUM(A1)"]


async def test_formula_cells_are_neutralised_in_the_csv_export(app: Any, client: Any) -> None:
    a, b = await fresh_tenant("csv-a"), await fresh_tenant("csv-b")
    project = (await new_project(client, a, "csv"))["id"]
    made = {(await new_task(client, a, project, title=f))["id"]: f for f in FORMULAS}
    plain = (await new_task(client, a, project, title="plain title"))["id"]
    operator = await open_session(app, await new_operator())
    staff_a = await open_session(app, await new_staff(a.id))
    staff_b = await open_session(app, await new_staff(b.id))
    for session in (operator, staff_a):
        # an export of the project's tasks: filtered, or the suite's other tasks (over a
        # page of 1000 once other tests ran) could hide these in a later page
        export = await session.get("/tables/task/", project_id=project, __page_size=1000)
        exported = {r["id"]: r["title"] for r in export.json()["rows"]}
        for task_id, title in made.items():
            assert exported[task_id] == "'" + title
        assert exported[plain] == "plain title"
        # the list page shows what is stored
        page = await session.get("/tables/task/", project_id=project, __page_size=25)
        listed = {r["id"]: r["title"] for r in page.json()["rows"]}
        assert all(listed[t] == title for t, title in made.items())
    rows_b = (await staff_b.get("/tables/task/", __page_size=1000, __page=1)).json()["rows"]
    assert not {r["id"] for r in rows_b} & set(made)
