"""The migration state a file was exported at, and what differs from a database's."""

from __future__ import annotations

from typing import Any

MIGRATIONS_SQL = "select app_name, name from migration order by app_name, name"


async def migration_state(connection: Any) -> dict[str, list[str]]:
    """Every applied migration id, per app (Piccolo's `migration` table)."""
    state: dict[str, list[str]] = {}
    for row in await connection.fetch(MIGRATIONS_SQL):
        state.setdefault(row["app_name"], []).append(row["name"])
    return state


def differences(in_file: dict[str, list[str]], here: dict[str, list[str]]) -> list[str]:
    """One line per app whose applied migrations differ, naming the migrations."""
    lines = []
    for app in sorted(set(in_file) | set(here)):
        only_file = sorted(set(in_file.get(app, [])) - set(here.get(app, [])))
        only_here = sorted(set(here.get(app, [])) - set(in_file.get(app, [])))
        parts = []
        if only_file:
            parts.append(f"in the file, not applied here: {', '.join(only_file)}")
        if only_here:
            parts.append(f"applied here, not in the file: {', '.join(only_here)}")
        if parts:
            lines.append(f"app {app}: " + "; ".join(parts))
    return lines
