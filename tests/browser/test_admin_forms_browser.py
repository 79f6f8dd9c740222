"""The admin's forms and lists as staff and operators see them (issue 16): a staff add
form has no tenant field and the new row lands in the staff's tenant; the bookkeeping
times come last in a form; lists show the newest rows first, in a stable order."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.browser import skip_or_fail_without_browser

skip_or_fail_without_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_admin_browser import list_page, login  # noqa: E402

if TYPE_CHECKING:
    from tests.browser.conftest import Server

SAVED = "Successfully added row"


def form_fields(page: Page) -> list[str]:
    """The names of the add form's fields, in the order it shows them."""
    names = page.locator("form [name]").evaluate_all(
        "fields => fields.map(f => f.getAttribute('name'))"
    )
    return list(dict.fromkeys(names))  # a rich text field has two elements


def open_add_form(page: Page, table: str) -> None:
    """The add form, once its schema and its default values have loaded: the defaults
    fill the form when they arrive, over anything typed before (on a busy machine a name
    typed after the schema alone was posted empty)."""
    list_page(page, table)
    api = f"/admin/api/tables/{table}"
    with (
        page.expect_response(lambda r: urlsplit(r.url).path == f"{api}/schema/"),
        page.expect_response(lambda r: urlsplit(r.url).path == f"{api}/new/"),
    ):
        page.get_by_role("link", name="Add Row").click()
    expect(page.locator("form input[name=name]")).to_be_visible()
    page.wait_for_load_state("networkidle")


def test_staff_add_a_project_without_choosing_a_tenant(page: Page, server: Server) -> None:
    login(page, "acme-staff", "acme-demo")
    open_add_form(page, "project")
    fields = form_fields(page)
    assert "tenant_id" not in fields  # pinned: staff have one tenant
    assert fields[-2:] == ["created_at", "updated_at"], fields  # bookkeeping last
    name = f"Added by staff {uuid.uuid4().hex[:6]}"
    page.locator("form input[name=name]").fill(name)
    expect(page.locator("form input[name=name]")).to_have_value(name)
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == "/admin/api/tables/project/" and r.request.method == "POST"
        )
    ) as posted:
        page.click("[data-uitest=create_button]")
    assert posted.value.status == 201, posted.value.text()
    assert posted.value.request.post_data_json["name"] == name  # what was typed was sent
    expect(page.get_by_text(SAVED)).to_be_visible()

    tenant = server.db.fetchval(
        "select n.slug from project p join tenant n on n.id = p.tenant_id where p.name = $1", name
    )
    assert tenant == "acme"
    # Newest first: the new project heads the list, on this load and the next.
    for _ in range(2):
        rows = list_page(page, "project")
        assert rows[0]["name"] == name, rows
    page.screenshot(path=str(artefact("staff_added_project")), full_page=True)


def test_operators_still_choose_the_tenant(page: Page, server: Server) -> None:
    login(page, "operator", "operator-demo")
    open_add_form(page, "project")
    fields = form_fields(page)
    assert "tenant_id" in fields  # an operator works for every tenant: they choose
    assert fields[-2:] == ["created_at", "updated_at"], fields


def test_lists_are_newest_first(page: Page, server: Server) -> None:
    login(page, "operator", "operator-demo")
    rows = list_page(page, "task")
    expected = server.db.fetch("select title from task order by created_at desc, id desc")
    assert [row["title"] for row in rows] == [row["title"] for row in expected][: len(rows)]


def artefact(name: str) -> object:
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_empty_values_are_blank_and_times_readable(page: Page, server: Server) -> None:
    login(page, "operator", "operator-demo")
    rows = list_page(page, "task")
    unassigned = {
        row["title"] for row in server.db.fetch("select title from task where assignee_id is null")
    }
    assert unassigned
    for row in rows:
        if row["title"] in unassigned:
            assert row["assignee id"] == "", row  # not a literal NULL
        assert "NULL" not in row.values(), row
    comments = list_page(page, "comment")
    assert comments
    created = page.locator(".table_wrapper tbody td span[title], .table_wrapper tbody td[title]")
    created = created.first
    exact = created.get_attribute("title")
    assert exact and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", exact), exact
    shown = created.inner_text().strip()
    assert "T" not in shown and "." not in shown.split(",")[-1], shown  # no ISO, no µs
    assert re.search(r"\b20\d\d\b", shown), shown
    page.screenshot(path=str(artefact("readable_cells")), full_page=True)


def test_the_read_only_audit_log_has_no_add_or_save_controls(page: Page, server: Server) -> None:
    login(page, "operator", "operator-demo")
    list_page(page, "task")
    expect(page.get_by_role("link", name="Add Row")).to_be_visible()  # a writable table
    entries = list_page(page, "audit_log")
    assert entries
    expect(page.get_by_role("link", name="Add Row")).to_have_count(0)
    page.locator(".table_wrapper tbody tr td a").first.click()
    expect(page.locator("form")).to_be_visible()
    expect(page.locator("[data-uitest=save_button]")).to_be_hidden()
    page.screenshot(path=str(artefact("audit_log_entry")), full_page=True)


def test_another_tenants_row_by_url_says_not_found(page: Page, server: Server) -> None:
    globex_task = server.db.fetchval(
        "select t.id from task t join tenant n on n.id = t.tenant_id where n.slug = 'globex'"
        " limit 1"
    )
    login(page, "acme-staff", "acme-demo")
    list_page(page, "task")
    messages: list[str] = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.goto(f"/admin/#/task/{globex_task}/")
    expect(page.get_by_text("Welcome to")).to_be_visible()
    assert messages == ["Page not found"]  # piccolo-admin's own alert, then its home page
    # and on the page, where it stays: the same words for another tenant's row as for
    # no row at all (nothing tells the two apart)
    notice = page.locator(".refresh-missing")
    expect(notice).to_have_text(
        f"Not found: no row {globex_task} in task that you can see. Dismiss"
    )
    page.screenshot(path=str(artefact("another_tenants_row_not_found")), full_page=True)
    nobody = uuid.uuid4()
    page.goto(f"/admin/#/task/{nobody}/")
    expect(notice).to_have_text(f"Not found: no row {nobody} in task that you can see. Dismiss")
    expect(notice).to_have_count(1)
    # gone on the next page; and a row of the staff's own tenant opens with no notice
    list_page(page, "task")
    expect(notice).to_have_count(0)
    acme_task = server.db.fetchval(
        "select t.id from task t join tenant n on n.id = t.tenant_id where n.slug = 'acme' limit 1"
    )
    with page.expect_response(
        lambda r: urlsplit(r.url).path == f"/admin/api/tables/task/{acme_task}/"
    ) as opened:
        page.goto(f"/admin/#/task/{acme_task}/")
    assert opened.value.status == 200
    expect(page.locator("form input[name=title]")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(notice).to_have_count(0)
