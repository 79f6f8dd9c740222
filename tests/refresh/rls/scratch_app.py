"""A scratch Piccolo app (`gadgets`) on a database of its own, driven through the real CLI
as a developer would: for the workflow and the mistakes of adding a tenant table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

from refresh.db.bootstrap import bootstrap, drop_database
from refresh.db.claims import MEMBERSHIP
from settings import get_settings
from tests.database import _with_user_and_db, piccolo, test_database

ROOT = Path(__file__).resolve().parents[3]

HEADER = """
from piccolo.columns import UUID, ForeignKey, Integer, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.declarations import AUTHENTICATED, global_table, tenant_rls
from refresh.tenancy.tables import ReadClientTable, TenantTable, Timestamps
"""

#: A global table, a tenant table, and a tenant table referencing the other one.
GADGETS = """

class Colour(ReadClientTable, Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=20, unique=True, null=False)

    rls = global_table("colours, the same for every tenant", grants={{AUTHENTICATED: ("select",)}})


class Gadget(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=100, null=False)
    colour_id = ForeignKey(Colour, null=True, index=True)
{gadget_extra}

class Part(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    gadget_id = TenantForeignKey(Gadget)
    label = Varchar(length=100, null=False)
"""

APP = """
from pathlib import Path
from piccolo.conf.apps import AppConfig
from {app}.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="{app}",
    migrations_folder_path=Path(__file__).parent / "migrations",
    table_classes=TABLES,
    migration_dependencies=["{depends_on}"],
)
"""

CONF = """
from piccolo.conf.apps import AppRegistry
from piccolo_conf import DB  # noqa: F401

APP_REGISTRY = AppRegistry(apps=[
    "refresh.rls.piccolo_app", "apps.tenants.piccolo_app", "apps.projects.piccolo_app",
    "apps.tasks.piccolo_app", "apps.admin.piccolo_app", {apps}
])
"""


class Scratch:
    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name = root, name
        self.migrations = root / "gadgets" / "migrations"
        superuser_url = test_database().superuser_url
        self.write_url = _with_user_and_db(superuser_url, "refresh_admin", name)
        self.read_url = _with_user_and_db(superuser_url, "refresh_authenticator", name)
        self.env = {
            "WRITE_DATABASE_URL": self.write_url,
            "READ_DATABASE_URL": self.read_url,
            "PICCOLO_CONF": "scratch_conf",
            "PYTHONPATH": f"{root}{os.pathsep}{ROOT}",
        }

    def write_tables(self, source: str, tables: str, app: str = "gadgets") -> None:
        text = HEADER + textwrap.dedent(source) + f"\nTABLES = {tables}\n"
        (self.root / app / "tables.py").write_text(text)
        for cache in (self.root / app).rglob("__pycache__"):
            for compiled in cache.iterdir():
                compiled.unlink()

    def add_app(self, app: str, depends_on: str = "gadgets.piccolo_app") -> None:
        """A second scratch app (no tables yet), registered after gadgets: for keys
        between the tables of two apps."""
        add_app_package(self.root, app, depends_on)
        write_conf(self.root, ["gadgets", app])
        self.write_tables("", "[]", app)

    def migrated(self, source: str, tables: str = "[Colour, Gadget, Part]") -> None:
        """The project migrated, then these tables declared, generated and migrated: the
        starting point of a drift or a mistake made on top of a clean app."""
        self.run("migrations", "forwards", "all")
        self.generated(source, tables)

    def generated(self, source: str, tables: str = "[Colour, Gadget, Part]") -> None:
        """These tables declared, then `rls new` and `forwards`, as a developer does after
        editing the classes (e.g. following a fix)."""
        self.write_tables(source, tables)
        self.run("rls", "new", "gadgets")
        self.run("migrations", "forwards", "all")

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = piccolo(*args, env=self.env, check=False)
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def problems(self) -> list[dict[str, Any]]:
        result = self.run("rls", "check", "--json", ok=False)
        problems: list[dict[str, Any]] = json.loads(result.stdout)["problems"]
        return problems

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Python in the scratch project's environment (e.g. starting the app)."""
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    async def sql(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.write_url)
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    async def execute(self, sql: str) -> None:
        """SQL of several statements (a fix's), as the admin role."""
        connection = await asyncpg.connect(self.write_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def as_tenant(self, tenant: uuid.UUID, sql: str, *args: Any) -> list[asyncpg.Record]:
        """SQL in a request transaction of `tenant`, as the request path opens one."""
        connection = await asyncpg.connect(self.read_url)
        try:
            async with connection.transaction():
                claims = json.dumps(
                    # a subject of no member: the token alone decides (the server's claim)
                    {"sub": "dev", "tenant_id": str(tenant), "via": "api", MEMBERSHIP: "token"}
                )
                await connection.execute(
                    "select auth.begin_request($1, 'authenticated', null)", claims
                )
                return await connection.fetch(sql, *args)
        finally:
            await connection.close()


def add_app_package(root: Path, app: str, depends_on: str) -> None:
    (root / app / "migrations").mkdir(parents=True)
    (root / app / "__init__.py").write_text("")
    (root / app / "piccolo_app.py").write_text(APP.format(app=app, depends_on=depends_on))


def write_conf(root: Path, apps: list[str]) -> None:
    registered = " ".join(f'"{app}.piccolo_app",' for app in apps)
    (root / "scratch_conf.py").write_text(CONF.format(apps=registered))


def scratch_project(tmp_path: Path, suffix: str) -> Iterator[Scratch]:
    name = f"{test_database().name}_{suffix}"
    bootstrap(test_database().superuser_url, name, get_settings())
    add_app_package(tmp_path, "gadgets", "apps.tenants.piccolo_app")
    write_conf(tmp_path, ["gadgets"])
    scratch = Scratch(tmp_path, name)
    scratch.write_tables("", "[]")  # the app, before its first table
    try:
        yield scratch
    finally:
        drop_database(test_database().superuser_url, name)
