"""An operator restores an erased tenant from its export in the browser: the sidebar's
"Import a tenant" page, a file chosen and submitted; globex's rows are back, acme's never
changed. A module of its own: it erases globex from its server's database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser import skip_or_fail_without_browser

skip_or_fail_without_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_admin_browser import login, open_from_sidebar  # noqa: E402

if TYPE_CHECKING:
    from tests.browser.conftest import Server

ROWS = """
select (select count(*) from task t join tenant n on n.id = t.tenant_id where n.slug = $1)
       as tasks,
       (select count(*) from member m join tenant n on n.id = m.tenant_id where n.slug = $1)
       as members
"""


def test_an_operator_imports_an_erased_tenant_from_its_file(
    page: Page, server: Server, tmp_path: Path
) -> None:
    export = tmp_path / "globex.jsonl.gz"
    before = {slug: server.db.fetch(ROWS, slug) for slug in ("acme", "globex")}
    server.scratch.piccolo("tenants", "export", "globex", "--out", str(export))
    server.scratch.piccolo("tenants", "erase", "globex")
    assert server.db.fetch(ROWS, "globex")[0]["tasks"] == 0

    login(page, "operator", "operator-demo")
    open_from_sidebar(page, "Import a tenant", "/admin/operator/import/")
    page.locator('input[name="file"]').set_input_files(str(export))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("p.message")).to_contain_text("imported globex (")
    page.screenshot(path=str(tmp_path / "imported.png"), full_page=True)

    after = {slug: server.db.fetch(ROWS, slug) for slug in ("acme", "globex")}
    assert after == before and before["globex"][0]["tasks"] > 0
