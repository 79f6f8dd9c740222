"""The Content-Security-Policy of the admin and the API docs (refresh/web/headers.py), in a
real browser: every page renders and works under it, and the browser reports no
violation (neither a `securitypolicyviolation` event nor a console message). A last test
breaks the policy on purpose, so a listener that hears nothing cannot pass for a clean
page.

One report is expected, and only at its exact place: piccolo-admin's bundle looks the
global object up with `try { new Function("return this")() } catch { window }` (a
polyfill); the policy refuses the eval, the bundle takes `window`, and nothing else
changes. Allowing eval to silence it would also let the bundle's runtime template
compiler run, which is what a policy without 'unsafe-eval' keeps out."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.browser import skip_or_fail_without_browser

skip_or_fail_without_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_admin_browser import SAVED, list_page, login  # noqa: E402

if TYPE_CHECKING:
    from tests.browser.conftest import Server

LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation({
    directive: event.violatedDirective, blocked: event.blockedURI || "inline",
    source: event.sourceFile || location.href, line: event.lineNumber,
    column: event.columnNumber,
  });
});
"""
GLOBAL_LOOKUP = 'try{n=n||new Function("return this")()}catch'  # the polyfill's words
CONSOLE_CSP = re.compile(r"Content[- ]Security[- ]Policy", re.IGNORECASE)
OPERATOR_TABLES = [
    "tenant",
    "member",
    "project",
    "task",
    "comment",
    "audit_log",
    "staff_profile",
    "piccolo_user",
]
STAFF_TABLES = ["tenant", "member", "project", "task", "comment", "audit_log"]


@pytest.fixture
def violations(page: Page) -> Iterator[list[str]]:
    """What the browser reports against the policy, from here on, on every page loaded,
    except the polyfill's refused eval (this module's docstring), checked at its place."""
    reported: list[str] = []

    def heard(source: Any, report: dict[str, Any]) -> None:
        if not is_the_global_lookup(page, report):
            reported.append(
                f"{report['directive']} blocked {report['blocked']}"
                f" at {report['source']}:{report['line']}:{report['column']}"
            )

    page.context.expose_binding("__cspViolation", heard)
    page.context.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            reported.append(f"console: {message.text}")
            if CONSOLE_CSP.search(message.text)
            else None
        ),
    )
    yield reported


def is_the_global_lookup(page: Page, report: dict[str, Any]) -> bool:
    if report["directive"] != "script-src" or report["blocked"] != "eval":
        return False
    if not re.search(r"/admin/assets/index-[\w-]+\.js$", report["source"]):
        return False
    line = page.request.get(report["source"]).text().splitlines()[report["line"] - 1]
    column = report["column"]
    return GLOBAL_LOOKUP in line[max(column - 60, 0) : column + 60]


def policy_of(page: Page, path: str) -> str:
    response = page.request.get(path)
    assert response.ok, (path, response.status)
    return response.headers["content-security-policy"]


def assert_strict(policy: str) -> None:
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'", policy  # no inline script, no eval
    assert directives["default-src"] == "'self'", policy
    assert directives["frame-ancestors"] == "'none'", policy
    assert "*" not in policy and "http" not in policy, policy


def visit_tables(page: Page, tables: list[str]) -> None:
    for table in tables:
        rows = list_page(page, table)
        expect(page.locator(".table_wrapper")).to_be_visible()
        assert rows or table in ("staff_profile",), table


def open_first_row(page: Page, table: str) -> None:
    list_page(page, table)
    page.locator(".table_wrapper tbody tr td a").first.click()
    expect(page.locator("form")).to_be_visible()


def test_the_admin_works_under_its_policy_for_operators(
    page: Page, server: Server, violations: list[str]
) -> None:
    assert_strict(policy_of(page, "/admin/"))
    login(page, "operator", "operator-demo")
    visit_tables(page, OPERATOR_TABLES)
    open_first_row(page, "task")  # the edit form: pickers, date fields, rich text
    page.goto("/admin/#/project/add/")
    expect(page.locator("form input[name=name]")).to_be_visible()
    page.goto("/admin/#/forms/export-a-tenant/")
    expect(page.locator("form")).to_be_visible()
    page.goto("/admin/#/change-password/")
    expect(page.locator("input[type=password]").first).to_be_visible()
    assert violations == [], "\n".join(violations)


def test_the_admin_works_under_its_policy_for_staff(
    page: Page, server: Server, violations: list[str]
) -> None:
    page.goto("/admin/")  # the login page, before any session
    expect(page.locator("input[name=username]")).to_be_visible()
    login(page, "acme-staff", "acme-demo")
    visit_tables(page, STAFF_TABLES)
    open_first_row(page, "project")
    description = page.locator("form [name=description]").first
    expect(description).to_be_attached()
    name = page.locator("form input[name=name]")
    expect(name).not_to_have_value("")  # the row has loaded: it would overwrite a fill
    new_name = f"Under the policy {uuid.uuid4().hex[:6]}"
    name.fill(new_name)
    with page.expect_response(
        lambda r: r.request.method == "PATCH" and "/admin/api/tables/project/" in r.url
    ) as saved:
        page.click("[data-uitest=save_button]")
    assert saved.value.status == 200, saved.value.text()
    expect(page.get_by_text(SAVED)).to_be_visible()
    assert server.db.fetchval("select count(*) from project where name = $1", new_name) == 1
    assert violations == [], "\n".join(violations)


def test_the_docs_work_under_their_policy(
    page: Page, server: Server, violations: list[str]
) -> None:
    docs_policy = policy_of(page, "/api/docs")
    assert_strict(docs_policy)
    assert "unsafe" not in docs_policy  # not even for styles
    document: dict[str, Any] = page.request.get("/api/openapi.json").json()
    count = sum(len(ops) for ops in document["paths"].values())
    page.goto("/api/docs")
    expect(page.locator(".opblock")).to_have_count(count)
    first = page.locator(".opblock").first
    first.locator(".opblock-summary").click()
    expect(page.locator(".responses-wrapper").first).to_be_visible()
    first.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: urlsplit(r.url).path.startswith("/api/")) as tried:
        first.get_by_role("button", name="Execute").click()
    assert tried.value.status == 401  # no token given: the API answered, from the page
    expect(first.locator(".live-responses-table")).to_be_visible()
    assert violations == [], "\n".join(violations)


def test_a_violation_would_be_heard(page: Page, server: Server, violations: list[str]) -> None:
    """Contrast: an inline script and a foreign image on the admin's page are refused by
    the policy, and the listeners above report both."""
    page.goto("/admin/")
    expect(page.locator("input[name=username]")).to_be_visible()
    ran = page.evaluate(
        """() => {
          window.__inlineRan = false;
          const script = document.createElement("script");
          script.textContent = "window.__inlineRan = true";
          document.body.appendChild(script);
          const image = document.createElement("img");
          image.src = "https://example.invalid/pixel.png";
          document.body.appendChild(image);
          return window.__inlineRan;
        }"""
    )
    assert ran is False  # the policy held
    for _ in range(50):  # the reports arrive through a binding, asynchronously
        if len([v for v in violations if not v.startswith("console")]) >= 2:
            break
        page.wait_for_timeout(100)
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("img-src") for v in violations), violations
