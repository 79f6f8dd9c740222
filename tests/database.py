"""The suite's database: a fresh one per run, on an embedded server unless TEST_DATABASE_URL.

This runs before any project module reads settings, and exports WRITE_DATABASE_URL and
READ_DATABASE_URL so the app, the CLI subprocesses and the tests all use the new database.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_CURRENT: list[TestDatabase] = []


def test_database() -> TestDatabase:
    """The run's database, created by tests/conftest.py's pytest_configure."""
    if not _CURRENT:
        raise RuntimeError("no test database: it is created when pytest configures the run")
    return _CURRENT[0]


test_database.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest


@dataclass
class TestDatabase:
    superuser_url: str
    name: str
    write_url: str
    read_url: str
    embedded_dir: Path | None
    pgbouncer: Any = None
    citus: Any = None  # the CitusCluster under TEST_CITUS


def _with_user_and_db(url: str, user: str, database: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}@{host}", f"/{database}", parts.query, ""))


def create_test_database() -> TestDatabase:
    os.environ.setdefault("ENVIRONMENT", "test")
    from refresh.db.bootstrap import bootstrap
    from settings import Settings

    settings = Settings(write_database_url=None, read_database_url=None)
    embedded_dir: Path | None = None
    superuser_url = os.environ.get("TEST_DATABASE_URL")
    if os.environ.get("TEST_CITUS"):
        return create_citus_database(settings)
    if not superuser_url:
        from refresh.db.embedded import socket_url, start_server

        embedded_dir = Path(tempfile.mkdtemp(prefix="refresh-test-")) / "pg"
        superuser_url = socket_url(start_server(embedded_dir), "postgres", "postgres")
    name = f"refresh_test_{uuid.uuid4().hex[:12]}"
    bootstrap(superuser_url, name, settings)
    database = TestDatabase(
        superuser_url=superuser_url,
        name=name,
        write_url=_with_user_and_db(superuser_url, settings.admin_role, name),
        read_url=_with_user_and_db(superuser_url, settings.authenticator_role, name),
        embedded_dir=embedded_dir,
    )
    os.environ["WRITE_DATABASE_URL"] = database.write_url
    os.environ["READ_DATABASE_URL"] = database.read_url
    if os.environ.get("TEST_PGBOUNCER"):
        route_reads_through_pgbouncer(database, settings)
    _CURRENT.append(database)
    return database


def create_citus_database(settings: Any) -> TestDatabase:
    """TEST_CITUS=1: a coordinator and two workers (tests/citus), bootstrapped with the
    production command's code, so the suite runs against distributed tables. The read
    login role refuses any query that is not routed to one shard
    (citus.multi_task_query_log_level = error, refuse_fan_out()): every request of the
    suite is then a router query, or fails."""
    from refresh.db.citus_bootstrap import bootstrap_citus
    from tests.citus.cluster import CitusCluster
    from tests.citus.fixtures import cluster_dir

    cluster = CitusCluster(cluster_dir()).start(fresh=True)
    name = f"refresh_test_{uuid.uuid4().hex[:12]}"
    bootstrap_citus(cluster.coordinator_url, cluster.worker_urls, name, settings)
    superuser_url = cluster.coordinator_url
    database = TestDatabase(
        superuser_url=superuser_url,
        name=name,
        write_url=_with_user_and_db(superuser_url, settings.admin_role, name),
        read_url=_with_user_and_db(superuser_url, settings.authenticator_role, name),
        embedded_dir=None,
        citus=cluster,
    )
    os.environ["WRITE_DATABASE_URL"] = database.write_url
    os.environ["READ_DATABASE_URL"] = database.read_url
    _CURRENT.append(database)
    return database


def refuse_fan_out(database: TestDatabase) -> None:
    """After the migrations made the read login role: any query of a request that Citus
    would run on more than one shard fails (the suite's assertion of router queries)."""
    from settings import get_settings

    superuser_sql(
        database,
        f"alter role {get_settings().authenticator_role} in database {database.name}"
        " set citus.multi_task_query_log_level = 'error';",
    )


def route_reads_through_pgbouncer(database: TestDatabase, settings: Any) -> None:
    """TEST_PGBOUNCER=1: the read pool (every request) goes through PgBouncer."""
    from tests.pgbouncer import available, pgbouncer

    if not available():
        raise RuntimeError("TEST_PGBOUNCER is set but pgbouncer is not installed")
    users = [settings.authenticator_role, settings.admin_role]
    context = pgbouncer(database.superuser_url, users)
    port = context.__enter__()
    database.pgbouncer = context  # closed by drop_test_database
    database.read_url = (
        f"postgresql://{settings.authenticator_role}@127.0.0.1:{port}/{database.name}"
    )
    os.environ["READ_DATABASE_URL"] = database.read_url
    os.environ["PGBOUNCER"] = "true"


def piccolo(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `piccolo` CLI of this virtualenv against the test database (its console
    script, in an interpreter with the libraries already imported: tests/warm_cli.py)."""
    from tests.warm_cli import warm_cli

    result = warm_cli.run(
        list(args), cwd=Path(__file__).resolve().parents[1], env={**os.environ, **(env or {})}
    )
    if check:
        result.check_returncode()
    return result


def drop_test_database() -> None:
    from refresh.db.bootstrap import drop_database

    if not _CURRENT:
        return
    database = _CURRENT.pop()
    if database.pgbouncer is not None:
        database.pgbouncer.__exit__(None, None, None)
    if database.citus is not None:
        database.citus.stop()  # the whole cluster is the run's
        return
    drop_database(database.superuser_url, database.name)
    if database.embedded_dir is not None:
        from refresh.db.embedded import stop_server

        stop_server(database.embedded_dir)
        subprocess.run(["rm", "-rf", str(database.embedded_dir.parent)], check=False)


def superuser_sql(database: TestDatabase, sql: str) -> str:
    """Run SQL as the server's superuser in the test database (faults need it)."""
    from refresh.db.bootstrap import run_psql

    return run_psql(
        _with_user_and_db(database.superuser_url, _superuser(database), database.name), sql
    )


def _superuser(database: TestDatabase) -> str:
    return urlsplit(database.superuser_url).username or "postgres"
