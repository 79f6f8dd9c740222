"""The staff-page refusal (apps/admin/staff_pages.py) end to end, on a scratch project
with two tenants: the probe's write-client table of tenant rows in ADMIN_PAGES stops the
app from starting, and each fix the refusal names, applied, starts it with tenant A's
staff unable to read or edit tenant B's row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project

SUPPLIER = """
from piccolo.columns.reference import LazyTableReference


class Supplier(Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = ForeignKey(
        LazyTableReference("Tenant", app_name="tenants"), null=False, index=True
    )
    name = Varchar(length=100, null=False)

    rls = global_table("each tenant's suppliers, kept by the operators")
"""

# The advice "make it a tenant table: `class Supplier(TenantTable, Table)` ..., with no
# `rls = ...` of its own", applied.
TENANT_SUPPLIER = """

class Supplier(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=100, null=False)
"""

ADMIN = """
from piccolo_admin.endpoints import TableConfig

from gadgets.tables import Supplier

{pages} = [TableConfig(Supplier, menu_group="Gadgets")]
"""

SCRIPT = """
import asyncio, json
from tests.apps.admin.support import open_session, new_staff, new_operator
from refresh.db.clients import write_client
import app as module

async def main():
    application = module.app
    async with application.router.lifespan_context(application):
        from apps.tenants.operations import create_tenant
        a = await create_tenant("sup-a", "A")
        b = await create_tenant("sup-b", "B")
        [row] = await write_client.fetch(
            "insert into supplier (tenant_id, name) values ($1, 'supplier of B') returning id", b)
        seen = {}
        for name, tenant in (("a", a), ("b", b)):
            staff = await open_session(application, await new_staff(tenant))
            listed = await staff.get("/tables/supplier/", __page_size=100)
            seen[name] = {
                "status": listed.status_code,
                "names": [r["name"] for r in listed.json()["rows"]]
                if listed.status_code == 200 else None,
            }
            if name == "a":
                patched = await staff.patch(f"/tables/supplier/{row['id']}/", {"name": "by A"})
                seen["a_patch_status"] = patched.status_code
        operator = await open_session(application, await new_operator())
        seen["operator"] = [r["name"] for r in await operator.rows("supplier")]
        seen["names_after"] = [r["name"] for r in await write_client.fetch(
            "select name from supplier")]
        print(json.dumps(seen))

asyncio.run(main())
"""


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "stfp")


def write_admin(scratch: Scratch, pages: str) -> None:
    (scratch.root / "gadgets" / "admin.py").write_text(ADMIN.format(pages=pages))
    for cache in (scratch.root / "gadgets").rglob("__pycache__"):
        for compiled in cache.iterdir():
            compiled.unlink()


def served(scratch: Scratch) -> dict[str, Any]:
    ran = scratch.python(SCRIPT)
    assert ran.returncode == 0, ran.stderr[-3000:]
    result: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return result


def test_the_probes_page_stops_the_app_and_operators_only_serves_operators(
    scratch: Scratch,
) -> None:
    scratch.migrated(SUPPLIER + GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part, Supplier]")
    write_admin(scratch, "ADMIN_PAGES")
    refused = scratch.python("import app")
    assert refused.returncode == 1
    assert "StaffPageRefused: table class Supplier (table supplier), listed in gadgets.admin" in (
        refused.stderr
    )
    write_admin(scratch, "ADMIN_OPERATOR_PAGES")  # the first fix the refusal names
    seen = served(scratch)
    print(seen)
    assert seen["a"]["status"] == seen["b"]["status"] == 404  # no such page for staff
    assert seen["a_patch_status"] == 404
    assert seen["operator"] == ["supplier of B"]
    assert seen["names_after"] == ["supplier of B"]


def test_as_a_tenant_table_each_tenants_staff_see_their_own_rows(scratch: Scratch) -> None:
    scratch.migrated(
        TENANT_SUPPLIER + GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part, Supplier]"
    )
    write_admin(scratch, "ADMIN_PAGES")
    seen = served(scratch)
    print(seen)
    assert seen["a"] == {"status": 200, "names": []}
    assert seen["b"] == {"status": 200, "names": ["supplier of B"]}
    assert seen["a_patch_status"] == 404
    assert seen["operator"] == ["supplier of B"]
    assert seen["names_after"] == ["supplier of B"]
