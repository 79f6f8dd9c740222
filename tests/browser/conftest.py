"""Fixtures of the browser tests.

Once per module: a scratch database, migrated and seeded with the demo tenants by the
real CLI; the real app under a real uvicorn; one system Chromium. Per test: a fresh
browser context (no cookies carried from one test to the next) and, when the test
fails, its artefacts in tests/artifacts/ (screenshot, HTML, browser console).

Playwright is imported inside the fixtures only: test_admin_browser.py decides whether
the module runs at all (skipped without a browser, failed under CI), so this file must
import without it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.browser import CHROMIUM
from tests.scratch import ScratchDatabase, scratch_database, uvicorn

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # every wait of the browser tests: generous, but bounded

# What the page's console said during a test, kept for the artefacts.
CONSOLE = pytest.StashKey[list[str]]()


@dataclass(frozen=True)
class Database:
    """The scratch database through its write URL (the admin role, which bypasses RLS):
    the ground truth the pages are checked against."""

    url: str

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            connection = await asyncpg.connect(self.url)
            try:
                return list(await connection.fetch(sql, *args))
            finally:
                await connection.close()

        # Playwright's sync API keeps its own event loop running in this thread, where
        # asyncio.run() is refused: the query gets a loop of its own in a worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, run()).result(timeout=TIMEOUT_MS / 1000)

    def fetchval(self, sql: str, *args: Any) -> Any:
        rows = self.fetch(sql, *args)
        return rows[0][0] if rows else None


@dataclass(frozen=True)
class Server:
    base_url: str
    db: Database
    scratch: ScratchDatabase  # its `piccolo` runs the project's commands on this database


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The app under uvicorn on a fresh database, migrated and seeded as `make run` does."""
    with scratch_database("browser") as database:
        database.piccolo("migrations", "forwards", "all")
        database.piccolo("tenants", "demo")
        with uvicorn(database.env) as base_url:
            yield Server(base_url, Database(database.env["WRITE_DATABASE_URL"]), database)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context (no cookies), relative URLs resolved against the server."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(base_url=server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = request.node.stash[CONSOLE] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))
    try:
        yield page
    finally:
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a browser test fails, saves what the page showed at that moment (it is still
    open: fixtures are torn down after the call's report) and names the files in the
    failure report, as a section of its own."""
    report: pytest.TestReport = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        report.sections.append(("browser artefacts", save_artefacts(item, page)))
    return report


def save_artefacts(item: pytest.Item, page: Any) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)
    lines = [f"url: {page.url}"]
    try:
        page.screenshot(path=f"{stem}.png", full_page=True, timeout=TIMEOUT_MS)
        lines.append(f"screenshot: {stem}.png")
        Path(f"{stem}.html").write_text(page.content())
        lines.append(f"html: {stem}.html")
    except Exception as exc:  # a crashed page must not hide the test's own failure
        lines.append(f"could not capture the page: {exc!r}")
    Path(f"{stem}.console.log").write_text("\n".join(item.stash.get(CONSOLE, [])) + "\n")
    lines.append(f"console: {stem}.console.log")
    return "\n".join(lines)
