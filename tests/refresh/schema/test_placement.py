"""refresh/schema/placement.py: the placement app runs after every app, its migrations
record every declared table's placement, `piccolo rls new` writes one when a placement
changes, and `piccolo rls check` names a placement no migration records, with a fix that
clears it. On one server a placement migration runs and changes nothing; on Citus it
distributes (the whole `make test-citus` suite runs on tables placed by it alone, and
tests/citus/test_router_queries.py checks where each table is)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppRegistry, Finder

from refresh.schema import placement_app
from refresh.schema.generate import write_migration
from refresh.schema.placement import (
    APP_NAME,
    PLACEMENT_MODULE,
    migrated_placement,
    placed_last,
    placement_of_apps,
    write_placement_migration,
)

REPO_FOLDER = Path(placement_app.APP_CONFIG.migrations_folder_path)
OTHERS = ["refresh.rls.piccolo_app", "apps.tenants.piccolo_app"]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """The placement app's migrations in a folder of the test's (the repo's stay as
    they are)."""
    config = placement_app.APP_CONFIG
    original = config.migrations_folder_path
    config.migrations_folder_path = str(tmp_path)
    try:
        yield tmp_path
    finally:
        config.migrations_folder_path = original


def test_the_placement_app_sorts_after_every_app_wherever_it_is_listed() -> None:
    assert Finder().get_sorted_app_names()[-1] == APP_NAME
    config = placement_app.APP_CONFIG
    before = list(config.migration_dependencies)
    try:
        registry = placed_last(AppRegistry(apps=[PLACEMENT_MODULE, *OTHERS]))
        config._migration_dependency_app_configs = None  # Piccolo caches the resolved list
        order = Finder().sort_app_configs(list(registry.app_configs.values()))
        assert [c.app_name for c in order][-1] == APP_NAME
        assert config.migration_dependencies == OTHERS
    finally:
        config.migration_dependencies = before
        config._migration_dependency_app_configs = None


def test_a_registry_without_the_placement_app_is_refused() -> None:
    with pytest.raises(ValueError, match=r"refresh\.schema\.placement_app"):
        placed_last(AppRegistry(apps=["refresh.rls.piccolo_app"]))


async def test_the_repos_placement_migrations_record_every_declared_table_and_ran() -> None:
    declared = placement_of_apps(declared=True)
    assert declared["task"] == "by_tenant" and declared["tenant"] == "reference"
    assert declared["sessions"] == "local"
    assert migrated_placement(placement_app.APP_CONFIG) == declared
    ran = await Migration.get_migrations_which_ran(app_name=APP_NAME)
    assert ran, "forwards all ran no placement migration"


def test_a_changed_placement_gets_a_migration_and_an_unchanged_one_none(folder: Path) -> None:
    first = write_placement_migration()
    assert first is not None and first.parent == folder
    assert write_placement_migration() is None
    recorded = migrated_placement(placement_app.APP_CONFIG)
    assert recorded == placement_of_apps(declared=False)

    # a later placement migration that put task on the coordinator (a unique module name)
    text = re.sub(
        r'^ID = ".*"$', 'ID = "2999-01-01T00:00:00:000000"', first.read_text(), flags=re.M
    )
    later = folder / "placement_2999_01_01t00_00_00_000000.py"
    later.write_text(text.replace("'task': 'by_tenant'", "'task': 'local'"))
    assert migrated_placement(placement_app.APP_CONFIG)["task"] == "local"
    written = write_placement_migration()
    assert written is not None
    assert "Placement on Citus of task" in written.read_text()
    assert "PREVIOUS = {'audit_log': 'by_tenant'," in written.read_text()


def copy_migrations(source: Path, folder: Path) -> None:
    for path in source.glob("placement_*.py"):
        shutil.copy(path, folder)


def remove_migrations(folder: Path) -> None:
    for path in folder.glob("placement_*.py"):
        path.unlink()


async def test_check_names_an_unrecorded_placement_and_its_fix_clears_it(folder: Path) -> None:
    from refresh.rls.check import registered_apps
    from refresh.rls.check.migrations import placement_problems

    apps = [a for a in registered_apps() if a.table_classes]
    copy_migrations(REPO_FOLDER, folder)
    assert placement_problems(apps) == []

    remove_migrations(folder)
    problems = placement_problems(apps)
    task = next(p for p in problems if p.table == "task")
    assert task.code == "placement_not_migrated"
    assert task.fix.commands == ("piccolo rls new tasks", "piccolo migrations forwards all")
    # the fix's first command, as `piccolo rls new tasks` runs it (the second one runs
    # the migration, which changes nothing the check compares)
    assert await write_migration("tasks") == 0
    assert placement_problems(apps) == []
