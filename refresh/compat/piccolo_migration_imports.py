"""Piccolo's auto migration of a foreign key to a lazily referenced table, completed.

A migration that adds a foreign key defines a stand-in class of the referenced table
with its primary key, and imports what that key's parameters name. For a table given
directly Piccolo adds those imports; for a `LazyTableReference` (how the platform's
`tenant_id` points at the tenant table without importing the tenants app) it imports the
key's column type but not its parameters' names (piccolo 1.38,
`serialise_params`; cf. piccolo-orm/piccolo#1231). So a new tenant table without a UUID
column of its own got `default=UUID4()` and no `import UUID4`: its migration failed to
load (`name 'UUID4' is not defined`). Piccolo has no hook in its writer, so
`piccolo rls new` calls `add_missing_key_imports` on the file Piccolo has just written.
tests/refresh/compat/test_piccolo_migration_imports.py fails when Piccolo writes the
import itself (then this module can go).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from piccolo.apps.migrations.auto.serialisation import serialise_params
from piccolo.table import Table

from refresh.compat.piccolo import referenced_table


def key_parameter_imports(tables: Iterable[type[Table]]) -> dict[str, str]:
    """{name: import line} of what the primary keys of the tables these tables refer
    to name in their parameters (e.g. UUID4, a key's default)."""
    found: dict[str, str] = {}
    for table in tables:
        for column in table._meta.foreign_key_columns:
            key = referenced_table(column)._meta.primary_key
            for needed in serialise_params(key._meta.params).extra_imports:
                if needed.target:
                    found[needed.target] = repr(needed)
    return found


def add_missing_key_imports(path: Path, tables: Iterable[type[Table]]) -> list[str]:
    """Add to the migration file at `path` each import of `key_parameter_imports` whose
    name it uses and does not import; the lines added."""
    text = path.read_text()
    added = [
        line
        for name, line in sorted(key_parameter_imports(tables).items())
        if re.search(rf"\b{re.escape(name)}\b", text) and line not in text.splitlines()
    ]
    if added:
        path.write_text("".join(f"{line}\n" for line in added) + text)
    return added
