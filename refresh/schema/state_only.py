"""Migrations that only record, in Piccolo's migration state, what the live schema has
already (a renamed attribute whose column keeps its name, a table class renamed).

Piccolo would run such an operation as SQL (`ALTER TABLE ... RENAME COLUMN tenant_id TO
tenant_id`, which fails); its `fake` flag skips it forwards only. A state-only migration
is recorded as applied and undone without running anything, in either direction.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


class StateOnlyMigrationManager(MigrationManager):
    async def run(self, backwards: bool = False) -> None:
        # The line Piccolo's own run() starts with; Piccolo then records (or, backwards,
        # deletes) the migration's row and prints "ok!".
        direction = "backwards" if backwards else "forwards"
        print(f"  - {self.migration_id} [{'preview ' * self.preview}{direction}]... ", end="")
