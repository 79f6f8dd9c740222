"""The project's own trigger functions as its migrations last defined them.

`audit_change()` runs as its owner on every audited table, and `set_updated_at()` runs as
the owner wherever the owner changes a row (a key's cascade, the SET NULL triggers): a
hand-written `create or replace` of either would run past RLS under the project's name,
so refresh/rls/check/owner_rights.py excepts their triggers only while the function is
the one the `rls` app's migrations define. The definition is read from those migrations,
the one place it is written (their FORWARDS script, loaded and ordered by ID as Piccolo
does), the last one of each function; its statement is the fix that restores it. When no
migration defines one, the check cannot tell the project's function from a changed one,
and says so rather than pass it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sqlparse
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import Finder

from refresh.db.sql import statements
from refresh.rls import APP_NAME as RLS_APP
from refresh.schema.migration_sql import render

PROJECT_FUNCTIONS = ("audit_change", "set_updated_at")
# matched on the statement without its comments
DEFINITION = re.compile(
    r'^create\s+(?:or\s+replace\s+)?function\s+"?public"?\."?(\w+)"?\s*\(\s*\)', re.I
)
BODY = re.compile(r"(\$\w*\$)(.*?)\1", re.S)  # any dollar quoting: $$, $fn$, ...


@dataclass(frozen=True)
class Definition:
    statement: str  # the migration's `create or replace function ...;`, roles filled in
    words: tuple[str, ...]  # its body, word by word (layout aside)
    definer: bool
    migration: str = ""  # the ID of the rls migration that defines it last


def words(body: str) -> tuple[str, ...]:
    # a fix may print a function on one line (its SQL flattened): the same body
    return tuple(body.split())


def definition(statement: str) -> Definition:
    body = BODY.search(statement)
    if body is None:
        raise ValueError(f"a function body not in dollar quotes: {statement[:80]}")
    header = sqlparse.format(statement[: body.start()], strip_comments=True)
    definer = re.search(r"\bsecurity\s+definer\b", header, re.I) is not None
    return Definition(statement, words(body[2]), definer)


def project_definitions() -> dict[str, Definition]:
    """name -> the last definition of each project function in the rls migrations."""
    folder = Finder().get_app_config(RLS_APP).resolved_migrations_folder_path
    modules = BaseMigrationManager().get_migration_modules(folder)
    found: dict[str, Definition] = {}
    for migration_id in sorted(modules):
        script = getattr(modules[migration_id], "FORWARDS", None)
        for statement in statements(render(script)) if isinstance(script, str) else []:
            bare = sqlparse.format(statement, strip_comments=True).strip()
            match = DEFINITION.match(bare)
            if match and match[1] in PROJECT_FUNCTIONS:
                found[match[1]] = replace(definition(statement), migration=migration_id)
    missing = [name for name in PROJECT_FUNCTIONS if name not in found]
    if missing:
        raise RuntimeError(
            f"no migration of the rls app defines public.{missing[0]}(): the check cannot "
            "tell the project's function from one changed by hand"
        )
    return found
