"""/api/docs in a real browser with the internet cut off: Swagger UI comes from the app
itself (the pinned swagger-ui-py package) and renders every operation of the document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.browser import skip_or_fail_without_browser

skip_or_fail_without_browser()

from playwright.sync_api import Page, Route, expect  # noqa: E402

if TYPE_CHECKING:
    from tests.browser.conftest import Server


def offline(page: Page, server: Server) -> list[str]:
    """Aborts every request that leaves the app's own origin; returns their URLs."""
    own = urlsplit(server.base_url).netloc
    refused: list[str] = []

    def gate(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", gate)
    return refused


def test_docs_render_every_operation_offline(page: Page, server: Server) -> None:
    refused = offline(page, server)
    document: dict[str, Any] = page.request.get("/api/openapi.json").json()
    operations = [
        (method.upper(), path, op["summary"])
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]
    page.goto("/api/docs")
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(operations))
    expect(page.locator(".info .title")).to_contain_text("Refresh API")
    for method, path, summary in operations[:3]:
        block = page.locator(f".opblock-{method.lower()}").filter(
            has=page.get_by_text(summary, exact=True)
        )
        expect(block.first).to_be_visible()
        expect(block.first.locator(".opblock-summary-path")).to_have_attribute("data-path", path)
    # An operation opens and shows its responses, rendered from the document's schemas.
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".responses-wrapper").first).to_be_visible()
    page.screenshot(path=str(screenshot_path("docs_offline")), full_page=False)
    assert refused == [], f"the docs page tried to leave the app: {refused}"


def screenshot_path(name: str) -> Any:
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
