"""Piccolo's auto migration that adds a check, given the pre-flight that names the rows
breaking it (refresh/schema/preflight.py) without the developer having to remember it.

Without it, a database with such rows fails the migration with PostgreSQL's `check
constraint ... is violated by some row`, which names no row. Piccolo's writer has no hook
and a fixed template (piccolo/apps/migrations/commands/templates/migration.py.jinja, whose
`forwards()` ends with `return manager`), so `piccolo rls new` edits the file Piccolo has
just written: it loads the migration, asks its manager which checks it adds (the same
question the pre-flight asks when it runs), and when there are any, adds the call before
that `return manager`. tests/refresh/compat/test_piccolo_migration_preflight.py fails if
Piccolo's template or its manager's record of the added checks changes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from refresh.compat.piccolo import added_checks

IMPORT = "from refresh.schema.preflight import refuse_breaking_rows\n"
RETURN = "    return manager\n"
CALL = (
    "    # Added by `piccolo rls new`: rows that break a check this migration adds are\n"
    "    # named before anything changes (refresh/schema/preflight.py).\n"
    "    refuse_breaking_rows(manager)\n\n"
)


class UnexpectedMigrationFile(Exception):
    """Piccolo wrote a migration this adaptation does not recognise."""


async def checks_added_by(path: Path) -> list[tuple[str, str, str]]:
    """(table, check, condition) of each check the migration file adds to an existing
    table; loading it and calling forwards() builds its manager and runs nothing."""
    spec = importlib.util.spec_from_file_location(f"refresh_written_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UnexpectedMigrationFile(f"{path} cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return added_checks(await module.forwards())


async def add_check_preflight(path: Path) -> bool:
    """Add the pre-flight to the migration at `path` if it adds a check to an existing
    table and does not call it yet; whether it was added."""
    return bool(await checks_added_by(path)) and insert_preflight_call(path)


def insert_preflight_call(path: Path) -> bool:
    text = path.read_text()
    if "refuse_breaking_rows(manager)" in text:
        return False
    if text.count(RETURN) != 1:
        raise UnexpectedMigrationFile(
            f"{path}: Piccolo's forwards() no longer ends with one `return manager`;"
            " add `refuse_breaking_rows(manager)` before it by hand"
        )
    path.write_text(IMPORT + text.replace(RETURN, CALL + RETURN))
    return True
