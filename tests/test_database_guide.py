"""docs/database-guide.md, executed: every example in it runs here, one test per section.

The guide is a script (tests/guide_runner.py says how each code block is marked). It runs
top to bottom against a project of its own: a copy of the project's code in a temporary
directory (so "Creating a table" can add an app and "Migrations" can write migration
files) on a database of its own (so its output is exact, and the suite's shared database
is left alone). Python blocks run in one Python session (tests/guide_kernel.py), with a
fresh namespace per section; bash blocks run the real `piccolo` CLI in the project copy.
What a block prints is compared with the ```output block under it, after normalising the
values that change on every run (ids, tokens, times); a block that prints something the
guide does not show fails too.

Not run, by design: ```python excerpt=PATH blocks (quotes of the project's files: they are
checked to appear verbatim in the file instead) and plain ```bash/```sql blocks (commands a
reader adapts, SQL the guide only shows).

When an example's output changes on purpose: `GUIDE_UPDATE=1 pytest tests/test_database_guide.py`
writes the new output into the guide; review the diff.

A section assumes the ones before it ran (the app "Creating a table" adds is migrated in
"Migrations"): selecting one section with -k runs the earlier ones first.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from settings import Settings
from tests.guide_project import (
    GUIDE,
    ON_CITUS,
    ROOT,
    UPDATE,
    GuideFailure,
    GuideProject,
    project_env,
)
from tests.guide_runner import (
    Section,
    parse_guide,
    update_outputs,
)
from tests.scratch import scratch_database

SECTIONS = parse_guide(GUIDE)
PROJECT_FILES = (
    ".gitignore",
    "apps",
    "refresh",
    "migrations",
    "app.py",
    "piccolo_conf.py",
    "settings.py",
)
# Runs on the Citus cluster of `make test-citus` only (TEST_CITUS); no section needs it.
CITUS_SECTION = "scaling-out-with-citus"


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuideProject]:
    root = tmp_path_factory.mktemp("guide") / "refresh"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    with scratch_database("guide") as database:
        project = GuideProject(root, project_env(root, database.env))
        # The project is a git repository ("Migration conflicts" merges two branches).
        for command in ("init -q -b main", "add -A", "commit -q -m project"):
            subprocess.run(["git", *command.split()], cwd=root, env=project.env, check=True)
        try:
            yield project
        finally:
            project.close()
            if UPDATE and project.updates:
                update_outputs(GUIDE, project.updates)
    assert not (ROOT / "migrations" / "inventory").exists(), "the guide wrote into the project"


@pytest.mark.parametrize("section", SECTIONS, ids=[s.slug for s in SECTIONS])
def test_section(guide: GuideProject, section: Section) -> None:
    if section.slug == CITUS_SECTION and not ON_CITUS:
        pytest.skip("runs on a Citus cluster: make test-citus")
    for current in SECTIONS[: SECTIONS.index(section) + 1]:
        if current.slug == CITUS_SECTION and not ON_CITUS:
            continue
        if current.slug not in guide.ran:
            try:
                guide.run_section(current)
                guide.ran[current.slug] = None
            except GuideFailure as exc:
                guide.ran[current.slug] = str(exc)
            except Exception as exc:  # e.g. a diff whose context is gone, a timeout
                guide.ran[current.slug] = f"{type(exc).__name__}: {exc}"
    failure = guide.ran[section.slug]
    if failure:
        before = [slug for slug, f in guide.ran.items() if f and slug != section.slug]
        note = f"\n(earlier sections failed too: {', '.join(before)})" if before else ""
        pytest.fail(f"section {section.title!r}: {failure}{note}", pytrace=False)


def test_every_setting_is_documented() -> None:
    configuration = next(s for s in SECTIONS if s.slug == "configuration")
    missing = [n.upper() for n in Settings.model_fields if n.upper() not in configuration.text]
    assert not missing, f"settings the Configuration section does not mention: {missing}"


def test_the_guide_has_the_sections_of_the_original() -> None:
    assert [s.title for s in SECTIONS] == [
        "Overview",
        "Configuration",
        "Schema organisation",
        "Creating a table",
        "Database clients",
        "Querying",
        "Mutations",
        "Row-Level Security",
        "Migrations",
        "Best practices",
        "Troubleshooting",
        "Scaling out with Citus",
        "The tenant's lifecycle",
    ]
