"""The operators' admin in the browser (issue 16): the RLS status page from the sidebar,
viewing the admin as a tenant (acme's rows only, read-only, stopped from the banner), and
the audit log read by tenant slug. Each test saves a screenshot in its tmp dir and names
it, with the text it asserted, in its output (`pytest -s` shows it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.browser import skip_or_fail_without_browser

skip_or_fail_without_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_admin_browser import (  # noqa: E402
    list_page,
    login,
    open_from_sidebar,
    tenant_titles,
)

if TYPE_CHECKING:
    from tests.browser.conftest import Server

RLS_PAGE = "/admin/operator/rls-status/"


def shot(page: Page, tmp_path: Path, name: str, asserted: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot {path}: {asserted}")


def test_operators_open_the_rls_status_from_the_sidebar(
    page: Page, server: Server, tmp_path: Path
) -> None:
    login(page, "operator", "operator-demo")
    open_from_sidebar(page, "RLS status", RLS_PAGE)
    expect(page.get_by_role("heading", name="Row-level security")).to_be_visible()
    tables = {
        r["relname"]
        for r in server.db.fetch(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        )
    }
    shown = page.locator("table.status tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.table)"
    )
    assert set(shown) == tables
    task = [c.strip() for c in page.locator('tr[data-table="task"] > *').all_inner_texts()]
    assert task[:6] == ["tasks", "task", "tenant", "yes", "yes", "yes"], task
    assert "tenant_isolation_select SELECT to authenticated" in task[6]
    sessions = page.locator('tr[data-table="sessions"] > *').all_inner_texts()
    assert [c.strip() for c in sessions[2:6]] == ["global", "yes", "yes", "no"], sessions
    shot(page, tmp_path, "rls_status", "task: tasks | task | tenant | yes | yes | yes")


def test_staff_have_no_rls_status(page: Page, tmp_path: Path) -> None:
    login(page, "acme-staff", "acme-demo")
    list_page(page, "task")
    expect(page.get_by_role("link", name="Tasks").first).to_be_visible()
    expect(page.get_by_role("link", name="RLS status")).to_have_count(0)
    expect(page.get_by_role("link", name="View as tenant")).to_have_count(0)
    response = page.goto(RLS_PAGE)
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text('"code":"not_found"')
    assert "tenant_isolation" not in page.content()
    shot(page, tmp_path, "rls_status_as_staff", 'status 404, "code":"not_found"')


def test_an_operator_views_as_acme_read_only_then_stops(
    page: Page, server: Server, tmp_path: Path
) -> None:
    db = server.db
    acme, globex = tenant_titles(db, "acme"), tenant_titles(db, "globex")
    views_before = db.fetchval("select count(*) from audit_log where action = 'view'")
    login(page, "operator", "operator-demo")
    open_from_sidebar(page, "View as tenant", "/admin/operator/view-as/")
    expect(page.get_by_role("heading", name="View the admin as a tenant")).to_be_visible()
    expect(page.locator("button[data-tenant]")).to_have_count(2)  # acme, globex
    shot(page, tmp_path, "view_as_picker", "View the admin as a tenant; acme and globex")
    page.locator("button[data-tenant=acme]").click()

    banner = page.locator(".refresh-notice")
    expect(banner).to_contain_text("Viewing the admin as tenant acme, as its staff see it")
    rows = list_page(page, "task")
    assert {row["title"] for row in rows} == acme and not {r["title"] for r in rows} & globex
    expect(page.get_by_role("link", name="Add Row")).to_have_count(0)  # read-only
    expect(page.get_by_role("link", name="RLS status")).to_have_count(0)  # the staff's site
    shot(page, tmp_path, "viewing_as_acme", "Viewing the admin as tenant acme; acme's tasks")

    # A write, as the page would send it, is refused and says why.
    task_id = db.fetchval(
        "select t.id from task t join tenant n on n.id = t.tenant_id where n.slug = 'acme'"
        " order by t.title limit 1"
    )
    before = db.fetchval("select title from task where id = $1", task_id)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.patch(
        f"/admin/api/tables/task/{task_id}/",
        data={"title": "changed while viewing"},
        headers={"X-CSRFToken": csrf},
    )
    assert refused.status == 403
    assert refused.json()["error"]["message"].startswith(
        "you are viewing the admin as tenant acme, read-only"
    )
    assert db.fetchval("select title from task where id = $1", task_id) == before

    entry = db.fetch(
        "select a.via, o.operator from audit_log a"
        " join operator_action o on o.id = a.id and o.tenant_id = a.tenant_id"
        " join tenant n on n.id = a.tenant_id where a.action = 'view' and n.slug = 'acme'"
        " order by a.created_at desc limit 1"
    )
    assert (entry[0]["via"], entry[0]["operator"]) == ("operator", "operator:operator")
    assert db.fetchval("select count(*) from audit_log where action = 'view'") == views_before + 1

    with page.expect_navigation():
        banner.get_by_role("button", name="Stop viewing").click()
    expect(page.locator(".refresh-notice")).to_have_count(0)
    titles = {row["title"] for row in list_page(page, "task")}
    assert acme | globex <= titles
    shot(page, tmp_path, "view_stopped", "no banner; acme's and globex's tasks")


def test_operators_read_the_audit_log_by_tenant_slug(
    page: Page, server: Server, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1800, "height": 1000})  # every column in the shot
    login(page, "operator", "operator-demo")
    rows = list_page(page, "audit_log")
    tenants = {row["tenant id"] for row in rows}
    assert tenants and tenants <= {"acme", "globex", "(no tenant)"}, tenants
    assert not any(re.fullmatch(r"[0-9a-f-]{36}", t) for t in tenants)
    # the time that opens an entry reads like the others
    link = page.locator(".table_wrapper tbody td a[title]").first
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", link.get_attribute("title") or "")
    assert "T" not in link.inner_text() and re.search(r"\b20\d\d\b", link.inner_text())
    shot(page, tmp_path, "audit_log_slugs", f"tenant column: {sorted(tenants)}")

    # The filter offers the slugs, and filters by the tenant's id.
    page.locator("a.button", has_text="Show filters").click()
    # a time filter stays usable: the forms' read-only times are not the filter's
    when = page.locator("form [name=created_at]").locator("xpath=..").locator("input").first
    assert when.evaluate("e => { e.focus(); return document.activeElement === e; }")
    select = page.locator("select[name=tenant_id]")
    expect(select.locator("option", has_text="globex")).to_have_count(1)
    select.select_option(label="globex")
    with page.expect_response(
        lambda r: urlsplit(r.url).path == "/admin/api/tables/audit_log/" and "tenant_id=" in r.url
    ) as filtered:
        page.get_by_role("button", name="Apply").click()
    assert filtered.value.ok
    expect(page.locator(".table_wrapper tbody tr").first).to_be_visible()
    shown = {row["tenant id"] for row in visible_rows(page)}
    assert shown == {"globex"}, shown
    shot(page, tmp_path, "audit_log_filtered", "filtered by tenant globex: only globex rows")

    # Narrowed further by table (a drop-down of the audited tables) and actor (typed).
    actor = server.db.fetchval(
        "select a.actor from audit_log a join tenant t on t.id = a.tenant_id"
        " where t.slug = 'globex' and a.table_name = 'task' order by a.actor limit 1"
    )
    page.locator("select[name=table_name]").select_option("task")
    page.locator("form input[name=actor]").fill(actor)
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == "/admin/api/tables/audit_log/"
            and "table_name=task" in r.url
            and "actor=" in r.url
        )
    ) as narrowed:
        page.get_by_role("button", name="Apply").click()
    assert narrowed.value.ok
    expect(page.locator(".table_wrapper tbody tr").first).to_be_visible()
    rows = visible_rows(page)
    assert {(r["tenant id"], r["table name"], r["actor"]) for r in rows} == {
        ("globex", "task", actor)
    }, rows
    shot(page, tmp_path, "audit_log_by_table_and_actor", f"globex, task, {actor}")


def visible_rows(page: Page) -> list[dict[str, str]]:
    headers = [t.strip().lower() for t in page.locator(".table_wrapper thead th").all_inner_texts()]
    return [
        dict(zip(headers, [c.strip() for c in row.locator("td").all_inner_texts()], strict=True))
        for row in page.locator(".table_wrapper tbody tr").all()
    ]
