"""The workflow of README "Adding a tenant table", run as a developer would, on a scratch
app and a database of its own: table class -> `piccolo migrations new --auto` ->
`piccolo rls new` -> `forwards` -> `piccolo rls check` clean -> the table is isolated per
tenant. Then the drifts `check` must catch: an unmigrated column, an unmigrated policy,
a rolled-back policy migration, an undeclared table, and conflicting migrations."""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
import uuid
from pathlib import Path

import asyncpg
import pytest

from refresh.db.bootstrap import bootstrap, drop_database
from settings import get_settings
from tests.database import _with_user_and_db, piccolo, test_database

TABLES = """
from piccolo.columns import UUID, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from refresh.tenancy.declarations import crud_policy, tenant_rls
from apps.tenants.tables import TenantTable


class Gadget(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=100, null=False)
{extra_columns}
{rls}
{extra_tables}
"""

APP = """
from pathlib import Path
from piccolo.conf.apps import AppConfig
from gadgets.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="gadgets",
    migrations_folder_path=Path(__file__).parent / "migrations",
    table_classes=TABLES,
    migration_dependencies=["apps.tenants.piccolo_app"],
)
"""

CONF = """
from piccolo.conf.apps import AppRegistry
from piccolo_conf import DB  # noqa: F401

APP_REGISTRY = AppRegistry(apps=[
    "refresh.rls.piccolo_app", "apps.tenants.piccolo_app", "apps.projects.piccolo_app",
    "gadgets.piccolo_app",
])
"""


class Scratch:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.migrations = root / "gadgets" / "migrations"

    def write_tables(
        self,
        extra_columns: str = "",
        rls: str = "",
        extra_tables: str = "",
        tables: str = "[Gadget]",
    ) -> None:
        source = (
            TABLES.format(
                extra_columns=textwrap.indent(extra_columns, "    "),
                rls=textwrap.indent(rls, "    "),
                extra_tables=extra_tables,
            )
            + f"\nTABLES = {tables}\n"
        )
        (self.root / "gadgets" / "tables.py").write_text(source)

    def run(self, *args: str, ok: bool = True):
        result = piccolo(*args, env=self.env, check=False)
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def problems(self) -> list[dict]:
        result = self.run("rls", "check", "--json", ok=False)
        return json.loads(result.stdout)["problems"]


@pytest.fixture
def scratch(tmp_path):
    name = f"{test_database().name}_wf"
    bootstrap(test_database().superuser_url, name, get_settings())
    (tmp_path / "gadgets" / "migrations").mkdir(parents=True)
    (tmp_path / "gadgets" / "__init__.py").write_text("")
    (tmp_path / "gadgets" / "piccolo_app.py").write_text(APP)
    (tmp_path / "scratch_conf.py").write_text(CONF)
    env = {
        "WRITE_DATABASE_URL": _with_user_and_db(
            test_database().superuser_url, "refresh_admin", name
        ),
        "READ_DATABASE_URL": _with_user_and_db(
            test_database().superuser_url, "refresh_authenticator", name
        ),
        "PICCOLO_CONF": "scratch_conf",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{Path(__file__).resolve().parents[3]}",
    }
    yield Scratch(tmp_path, env)
    drop_database(test_database().superuser_url, name)


async def as_tenant(url: str, tenant: uuid.UUID, sql: str, *args):
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            claims = json.dumps({"sub": "dev", "tenant_id": str(tenant)})
            await connection.execute("select auth.begin_request($1, 'authenticated')", claims)
            return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def test_add_a_tenant_table_then_catch_every_drift(scratch):
    scratch.write_tables()
    scratch.run("migrations", "forwards", "all")
    too_early = scratch.run("rls", "new", "gadgets", ok=False)
    assert too_early.returncode == 1
    assert "no migration creates gadget yet" in too_early.stderr
    scratch.run("migrations", "new", "gadgets", "--auto")
    generated = scratch.run("rls", "new", "gadgets")
    assert "Wrote" in generated.stdout
    scratch.run("migrations", "forwards", "all")
    assert scratch.run("rls", "check").stdout.startswith("✓")
    assert "no migration written" in scratch.run("rls", "new", "gadgets").stdout

    # Isolated per tenant through the request path; tenant_id defaults to the caller's.
    write_url, read_url = scratch.env["WRITE_DATABASE_URL"], scratch.env["READ_DATABASE_URL"]
    admin = await asyncpg.connect(write_url)
    a, b = uuid.uuid4(), uuid.uuid4()
    await admin.execute(
        "insert into tenant (id, slug, name) values ($1, 'ga', 'A'), ($2, 'gb', 'B')", a, b
    )
    await admin.close()
    await as_tenant(read_url, a, "insert into gadget (id, name) values (gen_random_uuid(), 'a1')")
    assert [r["name"] for r in await as_tenant(read_url, a, "select name from gadget")] == ["a1"]
    assert await as_tenant(read_url, b, "select name from gadget") == []
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_tenant(
            read_url,
            b,
            "insert into gadget (id, tenant_id, name) values (gen_random_uuid(), $1, 'forged')",
            a,
        )

    # A column added to the class but to no migration.
    scratch.write_tables(extra_columns="colour = Varchar(length=20)")
    assert "schema_not_migrated" in {p["code"] for p in scratch.problems()}
    scratch.run("migrations", "new", "gadgets", "--auto")
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []

    # A policy declared but not migrated; `rls sql` shows it, `rls new` writes it.
    policy = (
        'rls = tenant_rls(crud_policy("admins_delete", modify="auth.tenant_role() = '
        "'admin'\", permissive=False))"
    )
    scratch.write_tables(extra_columns="colour = Varchar(length=20)", rls=policy)
    codes = {p["code"]: p for p in scratch.problems()}
    assert codes["rls_not_migrated"]["table"] == "gadget"
    assert (
        "create policy admins_delete_delete on gadget as restrictive"
        in scratch.run("rls", "sql", "gadgets").stdout
    )
    scratch.run("rls", "new", "gadgets")
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []

    # Rolled back: the database no longer matches the declarations.
    scratch.run("migrations", "backwards", "gadgets", "--auto_agree")
    codes = {p["code"] for p in scratch.problems()}
    assert {"policy_missing", "migration_not_applied"} <= codes
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []

    # Two RLS migrations generated on separate branches (same PREVIOUS_RLS).
    newest = sorted(scratch.migrations.glob("gadgets_*.py"))[-1]
    text = newest.read_text()
    sibling_id = re.sub(
        r"(\d\d):(\d{6})\"",
        lambda m: f'{m[1]}:{int(m[2]) + 1:06d}"',
        re.search(r'ID = "(.*)"', text)[0],
    )
    sibling = newest.with_name(newest.stem + "_branch.py")
    sibling.write_text(text.replace(re.search(r'ID = ".*"', text)[0], sibling_id, 1))
    codes = {p["code"] for p in scratch.problems()}
    assert "migration_branch_conflict" in codes
    sibling.unlink()

    # An unapplied migration older than the newest applied one.
    stale = scratch.migrations / "gadgets_2000_01_01t00_00_00_000000.py"
    stale.write_text(
        'ID = "2000-01-01T00:00:00:000000"\nVERSION = "1"\nDESCRIPTION = ""\n\n'
        "async def forwards():\n    return None\n"
    )
    problems = [p for p in scratch.problems() if p["code"] == "migration_out_of_order"]
    assert problems and "2000-01-01" in problems[0]["message"]
    stale.unlink()

    # A table class that declares nothing.
    scratch.write_tables(
        extra_columns="colour = Varchar(length=20)",
        rls=policy,
        extra_tables="class Loose(Table):\n    label = Varchar()\n",
        tables="[Gadget, Loose]",
    )
    undeclared = [p for p in scratch.problems() if p["code"] == "undeclared_table"]
    assert [p["table"] for p in undeclared] == ["loose"]
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1 and "loose" in refused.stderr
    shutil.rmtree(scratch.root / "gadgets" / "__pycache__", ignore_errors=True)
