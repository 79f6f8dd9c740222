"""The embedded PostgreSQL server used when no database URL is configured.

It lives in EMBEDDED_DATA_DIR (default `.data/postgres`), listens only on a unix socket
in that directory, and keeps running after the process that started it exits, so the
app, every `piccolo ...` command and the next `make run` share one server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from refresh.compat.embedded_postgres import get_server
from refresh.db.bootstrap import PSQL, bootstrap
from settings import Settings


def start_server(data_dir: Path) -> str:
    """Start the server in data_dir unless it runs already; return its socket dir."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir)
    # get_server() caches the handle per process: after a stop, start again explicitly.
    server.ensure_postgres_running()
    socket_dir = server.get_postmaster_info().socket_dir
    assert socket_dir is not None, "embedded PostgreSQL is expected on a unix socket"
    return str(socket_dir)


def stop_server(data_dir: Path) -> bool:
    """Stop the server if it runs; True when something was stopped."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    subprocess.run(  # noqa: S603 (fixed binary, arguments are not shell-parsed)
        [str(PSQL.parent / "pg_ctl"), "-D", str(data_dir), "-w", "stop", "-m", "fast"],
        check=True,
        user="embedded_postgres" if _running_as_root() else None,
        capture_output=True,
    )
    return True


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def socket_url(socket_dir: str, user: str, database: str) -> str:
    return f"postgresql://{user}@/{database}?host={socket_dir}"


def embedded_urls(settings: Settings) -> tuple[str, str]:
    """Start (or reuse) the embedded server, bootstrap it, return (write, read) URLs."""
    socket_dir = start_server(settings.embedded_data_dir)
    database = settings.embedded_database
    bootstrap(socket_url(socket_dir, "postgres", "postgres"), database, settings)
    return (
        socket_url(socket_dir, settings.admin_role, database),
        socket_url(socket_dir, settings.authenticator_role, database),
    )
