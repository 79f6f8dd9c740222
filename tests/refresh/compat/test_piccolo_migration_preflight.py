"""`piccolo rls new` gives Piccolo's auto migration that adds a check the pre-flight that
names the rows breaking it, as a developer meets it: a scratch app with rows of two
tenants, a check added to its class, `rls new`, `forwards` refused with the listing
query, the advice followed literally, `forwards` again. Fails if Piccolo's template or
its record of added checks changes (refresh/compat/piccolo_migration_preflight.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from refresh.compat.piccolo_migration_preflight import add_check_preflight, checks_added_by
from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project

CHECK_IMPORT = "from piccolo.constraints import Check\n"
NOT_BLANK = '    gadget_name_not_blank = Check("length(btrim(name)) > 0")\n'


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "pf")


def newest_migration(scratch: Scratch, before: set[Path]) -> Path:
    """The Piccolo migration `rls new` wrote (the RLS migration, if any, is the other one)."""
    written = set(scratch.migrations.glob("*.py")) - before
    [path] = [p for p in written if "MigrationManager(" in p.read_text()]
    return path


async def test_rls_new_adds_the_preflight_and_its_advice_clears_the_refusal(
    scratch: Scratch,
) -> None:
    scratch.migrated(GADGETS.format(gadget_extra=""))
    a, b = uuid.uuid4(), uuid.uuid4()
    await scratch.sql(
        "insert into tenant (id, slug, name) values ($1, 'pa', 'A'), ($2, 'pb', 'B')", a, b
    )
    [blank] = await scratch.as_tenant(a, "insert into gadget (name) values ('  ') returning id")
    await scratch.as_tenant(a, "insert into gadget (name) values ('fine') returning id")
    await scratch.as_tenant(b, "insert into gadget (name) values ('fine too') returning id")
    b_rows = await scratch.sql("select * from gadget where tenant_id = $1", b)

    before = set(scratch.migrations.glob("*.py"))
    scratch.write_tables(
        CHECK_IMPORT + GADGETS.format(gadget_extra=NOT_BLANK), "[Colour, Gadget, Part]"
    )
    made = scratch.run("rls", "new", "gadgets")
    migration = newest_migration(scratch, before)
    assert "rows breaking its new checks are refused before it runs" in made.stdout
    assert "refuse_breaking_rows(manager)" in migration.read_text()
    assert await checks_added_by(migration) == [
        ("gadget", "gadget_name_not_blank", "length(btrim(name)) > 0")
    ]
    assert not await add_check_preflight(migration)  # once is enough

    refused = scratch.run("migrations", "forwards", "all", ok=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "1 row of gadget breaks the check gadget_name_not_blank" in output, output
    assert "Traceback" not in output
    constraint = "select 1 from pg_constraint where conname = 'gadget_name_not_blank'"
    assert await scratch.sql(constraint) == []

    # The advice, literally: list the rows, correct them, run the migrations again.
    [listing] = re.findall(r"list them with: (select \* from \"?gadget\"?[^\n]*?);\n", output)
    assert [r["id"] for r in await scratch.sql(listing)] == [blank["id"]]  # A's, not B's
    await scratch.sql("update gadget set name = 'named' where id = $1", blank["id"])
    scratch.run("migrations", "forwards", "all")
    assert await scratch.sql(constraint) != []
    assert await scratch.sql("select * from gadget where tenant_id = $1", b) == b_rows


async def test_a_check_on_a_column_added_with_it_is_left_to_postgresql(
    scratch: Scratch,
) -> None:
    """Piccolo adds the column after a migration's raw steps, so a pre-flight could not
    try the check there: the migration stays as Piccolo wrote it, and it runs."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    before = set(scratch.migrations.glob("*.py"))
    extra = '    weight = Integer(null=True)\n    gadget_weight_positive = Check("weight > 0")\n'
    scratch.write_tables(
        CHECK_IMPORT + GADGETS.format(gadget_extra=extra), "[Colour, Gadget, Part]"
    )
    made = scratch.run("rls", "new", "gadgets")
    migration = newest_migration(scratch, before)
    assert "gadget_weight_positive" in migration.read_text()
    assert "refuse_breaking_rows" not in migration.read_text() + made.stdout + made.stderr
    assert await checks_added_by(migration) == []
    scratch.run("migrations", "forwards", "all")
    constraint = "select 1 from pg_constraint where conname = 'gadget_weight_positive'"
    assert await scratch.sql(constraint) != []
