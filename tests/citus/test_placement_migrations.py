"""The placement migrations on Citus (TEST_CITUS=1, `make test-citus`): the suite's
database was migrated by `piccolo migrations forwards all` alone (tests/conftest.py), so
every table is where it is because the placement migrations put it there; a placement
migration does not undo itself there."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.database import piccolo

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS"), reason="needs the suite on Citus (make test-citus)"
)


async def test_forwards_alone_placed_every_declared_table(app: Any) -> None:
    from refresh.schema.distribution import live_placements
    from refresh.schema.placement import placement_of_apps
    from refresh.tenancy.declarations import Distribution

    placements = await live_placements()
    declared = placement_of_apps(declared=True)
    placed = {table: placements.get(table, Distribution.local).value for table in declared}
    assert declared and placed == declared
    # and nothing is left for the command that does the same by hand
    dry_run = piccolo("rls", "distribute", "--dry_run")
    assert dry_run.stdout.strip() == "every declared table is where its declaration puts it"


async def test_a_placement_migration_does_not_undo_itself_on_citus(app: Any) -> None:
    from refresh.schema.distribution import live_placements
    from refresh.schema.placement import PlacementError, placement_of_apps, refuse_backwards

    before = await live_placements()
    with pytest.raises(PlacementError, match="does not undo itself on Citus"):
        await refuse_backwards(placement_of_apps(declared=True), {})
    assert await live_placements() == before
