"""The project's own trigger functions as its migrations last defined them.

`audit_change()` runs as its owner on every audited table, and `set_updated_at()` runs as
the owner wherever the owner changes a row (a key's cascade, the SET NULL triggers): a
hand-written `create or replace` of either would run past RLS under the project's name,
so refresh/rls/check/owner_rights.py excepts their triggers only while the function is
the one the `rls` app's migrations define. The definition is read from those migration
files, the one place it is written (their FORWARDS script, parsed, never imported), the
last one of each function in migration order; its statement is the fix that restores it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from piccolo.conf.apps import Finder

from refresh.db.sql import statements
from refresh.schema.migration_sql import render

PROJECT_FUNCTIONS = ("audit_change", "set_updated_at")
DEFINITION = re.compile(
    r"^(?:\s*--[^\n]*\n)*\s*create\s+or\s+replace\s+function\s+public\.(\w+)\(\)", re.I
)


@dataclass(frozen=True)
class Definition:
    statement: str  # the migration's `create or replace function ...;`, roles filled in
    words: tuple[str, ...]  # its body, word by word (layout aside)
    definer: bool


def words(body: str) -> tuple[str, ...]:
    # a fix may print a function on one line (its SQL flattened): the same body
    return tuple(body.split())


def forwards_script(path: Path) -> str | None:
    """The FORWARDS constant of a migration file, or None (a migration of another form)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "FORWARDS" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


def definition(statement: str) -> Definition:
    header, body = statement.split("$$")[:2]
    return Definition(statement, words(body), bool(re.search(r"security\s+definer", header, re.I)))


def project_definitions() -> dict[str, Definition]:
    """name -> the last definition of each project function in the rls migrations."""
    folder = Path(Finder().get_app_config("rls").migrations_folder_path)
    found: dict[str, Definition] = {}
    for path in sorted(folder.glob("rls_*.py")):  # named by their IDs: migration order
        script = forwards_script(path)
        for statement in statements(render(script)) if script else []:
            match = DEFINITION.match(statement)
            if match and match[1] in PROJECT_FUNCTIONS:
                found[match[1]] = definition(statement)
    return found
