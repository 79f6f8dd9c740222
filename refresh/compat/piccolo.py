"""Piccolo: what a foreign key column references, a new migration file's id and path, and
a login that hashes outside the event loop.

tests/refresh/compat/test_piccolo.py fails if Piccolo changes either.
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
from pathlib import Path
from typing import Any

from piccolo.apps.user.tables import BaseUser
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


async def login_off_loop(user_table: type[BaseUser], username: str, password: str) -> Any:
    """`BaseUser.login` with its PBKDF2 hashing (about 0.3 s of CPU) in a worker thread:
    in the event loop it stalls every other request of the process for that long.

    Piccolo hashes inline and offers no hook for it, so its login is repeated here step by
    step (same limits, same dummy hash for an unknown user against timing probes, same
    rehash of an old iteration count, same last_login update). tests/refresh/compat/
    test_piccolo.py fails if BaseUser.login changes.
    """
    if (limit := user_table.username.length) and len(username) > limit:
        return None
    if len(password) > user_table._max_password_length:
        return None
    row = (
        await user_table.select(user_table._meta.primary_key, user_table.password)
        .where(user_table.username == username)
        .first()
    )
    if not row:
        await asyncio.to_thread(user_table.hash_password, password)
        return None
    stored: str = row["password"]
    _, iterations_, salt, _ = user_table.split_stored_password(stored)
    iterations = int(iterations_)
    hashed = await asyncio.to_thread(user_table.hash_password, password, salt, iterations)
    if not hmac.compare_digest(hashed, stored):
        return None
    if iterations != user_table._pbkdf2_iteration_count:
        new_hash = await asyncio.to_thread(user_table.hash_password, password)
        await user_table.update({user_table.password: new_hash}).where(
            user_table.username == username
        )
    await user_table.update({user_table.last_login: datetime.datetime.now()}).where(
        user_table.username == username
    )
    return row["id"]
