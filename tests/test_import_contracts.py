"""The import contracts of pyproject.toml (`make lint`) against the mistakes they exist
for, on a copy of the project: each violating module breaks the contract named for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.project_copy import copy_project, lint_imports, ruff_check

#: An endpoint of a new app that opens its own connection as the admin role.
OWN_CONNECTION = """import asyncpg

from settings import get_settings


async def invoice_totals(request):
    connection = await asyncpg.connect(get_settings().write_database_url)
    try:
        return await connection.fetch("select tenant_id, count(*) from project group by 1")
    finally:
        await connection.close()
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_new_apps_wrong_imports_break_the_contracts_made_for_them(tmp_path: Path) -> None:
    copy = copy_project(tmp_path)
    app = copy / "apps" / "invoices"  # an app no contract names
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "endpoints.py").write_text(OWN_CONNECTION)
    # the same connection in a helper module of an app, which its endpoints would call
    (copy / "apps" / "projects" / "reports.py").write_text(OWN_CONNECTION)
    # the write client in a helper module, as in no listed one (the runtime guard would
    # only answer the request with a 500)
    (copy / "apps" / "projects" / "totals.py").write_text(
        "from refresh.db.clients import write_client  # noqa: F401\n"
    )
    # an endpoint calling a module the first contract lets import the write client
    (copy / "apps" / "projects" / "endpoints.py").write_text(
        (copy / "apps" / "projects" / "endpoints.py").read_text()
        + "\nfrom apps.tenants.operations import create_tenant  # noqa: E402, F401\n"
    )
    (app / "tables.py").write_text("from apps.admin.site import create_admin  # noqa: F401\n")
    (app / "hooks.py").write_text("from refresh.web.api import Api  # noqa: F401\n")
    (copy / "refresh" / "web" / "invoices_hook.py").write_text(
        "from apps.invoices.hooks import Api  # noqa: F401\n"
    )
    lint = lint_imports(copy)
    assert lint.returncode == 1, lint.stdout
    out = " ".join(lint.stdout.split())  # the report wraps long contract names
    assert "Contracts: 3 kept, 5 broken." in out, lint.stdout
    assert "Request handlers never reach the write client" in out
    assert "apps.projects.totals -> refresh.db.clients" in out
    assert "do not reach the write client, even through another module" in out
    assert "apps.projects.endpoints -> apps.tenants.operations" in out
    assert "App modules import no database driver" in out
    assert "apps.invoices.endpoints -> asyncpg" in out
    assert "apps.projects.reports -> asyncpg" in out
    assert "No domain app imports the admin" in out
    assert "apps.invoices.tables -> apps.admin.site" in out
    assert "The platform imports no domain app" in out
    assert "refresh.web.invoices_hook -> apps.invoices.hooks" in out


#: A helper of an app that builds an engine of its own from the settings' URL: no driver is
#: imported, so only ruff's ban in apps/ruff.toml sees it.
OWN_ENGINE = """from piccolo.engine.postgres import PostgresEngine

from settings import get_settings

ENGINE = PostgresEngine(config={"dsn": get_settings().write_database_url})
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_app_module_building_its_own_engine_fails_ruff(tmp_path: Path) -> None:
    copy = copy_project(tmp_path)
    clean = ruff_check(copy)
    assert clean.returncode == 0, clean.stdout
    (copy / "apps" / "projects" / "reports.py").write_text(OWN_ENGINE)
    (copy / "apps" / "projects" / "totals.py").write_text(
        "from piccolo import engine\n\nENGINE = engine.PostgresEngine(config={})\n"
    )
    # outside the apps (the platform's own engines) the same import stays allowed
    (copy / "refresh" / "db" / "more_engines.py").write_text(OWN_ENGINE)
    lint = ruff_check(copy)
    assert lint.returncode == 1, lint.stdout
    banned = [line for line in lint.stdout.splitlines() if "TID251" in line]
    assert [line.split(":")[0] for line in banned] == [
        "apps/projects/reports.py",
        "apps/projects/totals.py",
    ], lint.stdout
    assert "an engine of its own would log in past RLS" in banned[0]
