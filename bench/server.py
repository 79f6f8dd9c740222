"""The benchmark's own PostgreSQL: an embedded server in .data/bench-pg, database refresh_bench
(and, for the cost curve, one more per data size: refresh_bench_100k, _1m, _10m).

Kept apart from the development server (.data/postgres) and from the test servers, so a
benchmark never competes with them for data or caches. pg_stat_statements is preloaded
(one `alter system` and a restart, the first time) to count what the server receives.
The schema comes from the real CLI: `piccolo migrations forwards all`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".data" / "bench-pg"
DATABASE = "refresh_bench"


@dataclass(frozen=True)
class BenchDatabase:
    data_dir: Path
    superuser_url: str  # the postgres superuser, connected to the bench database
    write_url: str  # the admin role (write client, migrations)
    read_url: str  # the authenticator (read pool)
    admin_role: str
    authenticated_role: str

    def env(self) -> dict[str, str]:
        """Environment for the app, the CLI and uvicorn: both URLs point at the bench database."""
        return {
            # the development JWT secret is accepted with URLs only when said explicitly
            "ENVIRONMENT": "development",
            **os.environ,
            "WRITE_DATABASE_URL": self.write_url,
            "READ_DATABASE_URL": self.read_url,
        }


def with_user_and_db(url: str, user: str, database: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}@{host}", f"/{database}", parts.query, ""))


def _preload_pg_stat_statements(superuser_url: str) -> bool:
    """True when the server had to be told (a restart is then needed)."""
    from refresh.db.bootstrap import run_psql

    loaded = run_psql(superuser_url, "show shared_preload_libraries;")
    if "pg_stat_statements" in loaded:
        return False
    run_psql(superuser_url, "alter system set shared_preload_libraries = 'pg_stat_statements';")
    return True


def start(migrate: bool = True, database_name: str = DATABASE) -> BenchDatabase:
    """Start (or reuse) the bench server, bootstrap and migrate a database on it (the bench
    database unless named: the cost curve keeps one per data size); idempotent."""
    from refresh.db.bootstrap import bootstrap, run_psql
    from refresh.db.embedded import socket_url, start_server, stop_server
    from settings import Settings

    settings = Settings(write_database_url=None, read_database_url=None)
    server_url = socket_url(start_server(DATA_DIR), "postgres", "postgres")
    if _preload_pg_stat_statements(server_url):
        print("bench: restarting the bench server to preload pg_stat_statements", flush=True)
        stop_server(DATA_DIR)
        server_url = socket_url(start_server(DATA_DIR), "postgres", "postgres")
    bootstrap(server_url, database_name, settings)
    database = BenchDatabase(
        data_dir=DATA_DIR,
        superuser_url=with_user_and_db(server_url, "postgres", database_name),
        write_url=with_user_and_db(server_url, settings.admin_role, database_name),
        read_url=with_user_and_db(server_url, settings.authenticator_role, database_name),
        admin_role=settings.admin_role,
        authenticated_role=settings.authenticated_role,
    )
    run_psql(database.superuser_url, "create extension if not exists pg_stat_statements;")
    # Later imports of the app's modules (settings, clients) read these.
    os.environ["WRITE_DATABASE_URL"] = database.write_url
    os.environ["READ_DATABASE_URL"] = database.read_url
    if migrate:
        piccolo = Path(sys.executable).parent / "piccolo"
        result = subprocess.run(  # noqa: S603 (this virtualenv's own CLI, fixed arguments)
            [str(piccolo), "migrations", "forwards", "all"],
            cwd=ROOT,
            env=database.env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{result.stdout}\n{result.stderr}")
    return database


def stop() -> None:
    from refresh.db.embedded import stop_server

    stop_server(DATA_DIR)
