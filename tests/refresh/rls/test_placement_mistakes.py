"""A key Citus could not check, declared on one server: a tenant table kept on the
coordinator (`Distribution.local`) with a table sharded by tenant keyed to it. Harmless
here, it would stop the move to Citus, so `rls new` refuses it on every server, `rls check`
names it as a root, and its fix, followed literally, clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project

IMPORTS = "from refresh.tenancy.declarations import Distribution\n"
LOCAL = "    rls = tenant_rls(distribution=Distribution.local)\n"
PART_LABEL = "    label = Varchar(length=100, null=False)\n"


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "placement")


def test_a_sharded_table_keyed_to_a_local_one_is_refused_until_placed_beside_it(
    scratch: Scratch,
) -> None:
    scratch.run("migrations", "forwards", "all")
    source = IMPORTS + GADGETS.format(gadget_extra=LOCAL)
    scratch.write_tables(source, "[Colour, Gadget, Part]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert (
        "✗ part [key_across_placements] Part.gadget_id is a key from a by_tenant table to "
        "Gadget, a local table: Citus cannot check it there, and would refuse to place the "
        "tables\n  fix: declare Part `rls = tenant_rls(..., distribution=Distribution.local)` "
        "(its other arguments as they are; Distribution from refresh.tenancy.declarations)"
    ) in refused.stderr
    assert not list(scratch.migrations.glob("gadgets_*.py"))  # nothing written
    roots = [p for p in scratch.problems() if p["cause"] is None]
    # beside the app's tables not migrated yet, as for every mistake `rls new` refuses
    assert {(p["code"], p["table"]) for p in roots} == {
        ("key_across_placements", "part"),
        ("schema_not_migrated", None),
    }

    # the fix, literally: Part declared local, as Gadget is
    fixed = source.replace(PART_LABEL, PART_LABEL + LOCAL)
    scratch.generated(fixed, "[Colour, Gadget, Part]")
    assert scratch.problems() == []


def test_a_local_global_table_keyed_to_a_sharded_one_moves_the_target_to_every_node(
    scratch: Scratch,
) -> None:
    """A global table cannot be sharded by tenant: the fix copies the table it refers to
    to every node instead (a reference table), which a table sharded by tenant (Part) may
    refer to as well."""
    scratch.run("migrations", "forwards", "all")
    ledger = """

class Ledger(ReadClientTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    gadget_id = ForeignKey(Gadget, null=True, index=True)

    rls = global_table("the platform's ledger of gadgets", distribution=Distribution.local)
"""
    source = IMPORTS + GADGETS.format(gadget_extra="") + ledger
    scratch.write_tables(source, "[Colour, Gadget, Part, Ledger]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert (
        "✗ ledger [key_across_placements] Ledger.gadget_id is a key from a local table to "
        "Gadget, a by_tenant table: Citus cannot check it there, and would refuse to place "
        "the tables\n  fix: declare Gadget `rls = tenant_rls(..., distribution=Distribution."
        "reference)` (its other arguments as they are; Distribution from "
        "refresh.tenancy.declarations)"
    ) in refused.stderr
    reference = "    rls = tenant_rls(distribution=Distribution.reference)\n"
    scratch.generated(
        IMPORTS + GADGETS.format(gadget_extra=reference) + ledger, "[Colour, Gadget, Part, Ledger]"
    )
    assert scratch.problems() == []


SPROCKETS = """
from gadgets.tables import Gadget


class Sprocket(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    gadget_id = TenantForeignKey(Gadget)
{sprocket_extra}"""


def test_a_table_made_local_is_refused_while_another_apps_table_keys_into_it(
    scratch: Scratch,
) -> None:
    """The key belongs to the other app (gizmos), so its own `rls new` would not see the
    change: `rls new gadgets` checks the keys into its tables from every app."""
    scratch.run("migrations", "forwards", "all")
    scratch.add_app("gizmos")
    scratch.write_tables(GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part]")
    scratch.write_tables(SPROCKETS.format(sprocket_extra=""), "[Sprocket]", "gizmos")
    for app in ("gadgets", "gizmos"):
        scratch.run("rls", "new", app)
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []
    written = sorted(scratch.migrations.glob("gadgets_*.py"))

    # Gadget kept on the coordinator, and Part with it as its own fix would say
    local = IMPORTS + GADGETS.format(gadget_extra=LOCAL).replace(PART_LABEL, PART_LABEL + LOCAL)
    scratch.write_tables(local, "[Colour, Gadget, Part]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    fix = (
        "declare Sprocket `rls = tenant_rls(..., distribution=Distribution.local)` (its "
        "other arguments as they are; Distribution from refresh.tenancy.declarations)"
    )
    assert (
        "1 table declaration(s) to fix before app gadgets can be generated:\n"
        "✗ sprocket (app gizmos) [key_across_placements] Sprocket.gadget_id is a key from a "
        "by_tenant table to Gadget, a local table: Citus cannot check it there, and would "
        f"refuse to place the tables\n  fix: {fix}"
    ) in refused.stderr
    assert sorted(scratch.migrations.glob("gadgets_*.py")) == written  # nothing written
    # `rls check` names the same key, under its own app, with the same fix
    [mistake] = [p for p in scratch.problems() if p["code"] == "key_across_placements"]
    assert (mistake["table"], mistake["app"], mistake["fix"]["edit"]) == ("sprocket", "gizmos", fix)

    # the fix, literally, in the other app; then both apps generate
    scratch.write_tables(IMPORTS + SPROCKETS.format(sprocket_extra=LOCAL), "[Sprocket]", "gizmos")
    for app in ("gadgets", "gizmos"):
        scratch.run("rls", "new", app)
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []
