"""Piccolo: what a foreign key column references, and a new migration file's id and path.

tests/refresh/compat/test_piccolo.py fails if Piccolo changes either.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from piccolo.columns import ForeignKey
from piccolo.conf.apps import AppConfig
from piccolo.table import Table


def referenced_table(column: ForeignKey[Table]) -> type[Table]:
    """The table a foreign key column points at (a lazy reference resolved). Piccolo keeps
    it in `column._foreign_key_meta` and offers no public accessor for it."""
    return column._foreign_key_meta.resolved_references


def new_migration_file(app_config: AppConfig) -> tuple[str, Path]:
    """(id, path) of a new migration of the app, in Piccolo's own format.

    Piccolo orders migrations by id (a timestamp to the microsecond) and loads every
    module of the folder; its generator for both is private, so the format is repeated
    here. tests/refresh/compat/test_piccolo.py compares it with Piccolo's.
    """
    migration_id = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S:%f")
    cleaned = migration_id.replace(":", "_").replace("-", "_").lower()
    folder = Path(app_config.resolved_migrations_folder_path)
    return migration_id, folder / f"{app_config.app_name}_{cleaned}.py"
