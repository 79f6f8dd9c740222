"""`piccolo rls ...` commands (thin wrappers: the work lives in the modules they import)."""

from __future__ import annotations

import sys

from refresh.db.claims import TenantRole
from settings import get_settings

ROLES = "|".join(TenantRole)


async def token(tenant: str = "", user: str = "", role: str = "member", ttl: int = 3600) -> None:
    """Print a signed JWT for a tenant (by slug or id) and user; nothing else on stdout.

    :param tenant: the tenant's slug or id
    :param user: the user id (the token's `sub`)
    :param role: member or admin (the token's `tenant_role`)
    :param ttl: lifetime in seconds
    """
    from refresh.tenancy.lookup import find_tenant_id
    from refresh.web.tokens import issue_token

    if not tenant or not user:
        sys.exit(
            "usage: piccolo rls token --tenant SLUG_OR_ID --user USER_ID "
            f"[--role {ROLES}] [--ttl SECONDS]"
        )
    if role not in TenantRole.__members__:
        sys.exit(f"--role must be {' or '.join(TenantRole)}")
    if not 1 <= ttl <= 30 * 24 * 3600:
        sys.exit("--ttl must be between 1 second and 30 days")
    tenant_id = await find_tenant_id(tenant)
    if tenant_id is None:
        sys.exit(f"no tenant with slug or id {tenant!r}")
    try:
        print(issue_token(get_settings(), tenant_id, user, TenantRole(role), ttl))
    except ValueError as exc:
        sys.exit(str(exc))


async def new(app_name: str, description: str = "") -> None:
    """Write a migration that brings the app's RLS (policies, grants, ...) to its declarations.

    :param app_name: the Piccolo app, e.g. projects
    :param description: a note stored in the migration
    """
    from refresh.rls.check.policy_probe import refused_policies
    from refresh.schema.generate import write_migration

    refused = await refused_policies(app_name)
    for problem in refused:
        print(problem.render(), file=sys.stderr)
    if refused:
        sys.exit(1)
    sys.exit(await write_migration(app_name, description))


async def sql(app_name: str) -> None:
    """Print the SQL `piccolo rls new APP` would write, without writing anything.

    :param app_name: the Piccolo app, e.g. projects
    """
    from refresh.schema.generate import print_sql

    sys.exit(await print_sql(app_name))


async def check(json: bool = False) -> None:
    """Check declarations, migrations and the live database; exit 1 on any problem.

    :param json: print the problems as JSON
    """
    from refresh.rls.check import run_check

    sys.exit(await run_check(as_json=json))


async def distribute(dry_run: bool = False) -> None:
    """On Citus: distribute every declared table as its declaration says (after
    `piccolo migrations forwards all`); on one server there is nothing to do.

    :param dry_run: print the SQL without running it
    """
    from refresh.rls.distribute import run_distribute

    sys.exit(await run_distribute(dry_run=dry_run))


async def status(json: bool = False) -> None:
    """One row per table: tenant or global, RLS enabled/forced, policies, grants, rows.

    :param json: print JSON instead of a table
    """
    from refresh.rls.status import run_status

    sys.exit(await run_status(as_json=json))


async def doctor(token: str = "", table: str = "", json: bool = False) -> None:
    """Explain, step by step, why a token's queries return no rows.

    :param token: the JWT the client sends
    :param table: the table the query reads (default: every tenant table)
    :param json: print the steps as JSON
    """
    from refresh.rls.doctor import run_doctor

    if not token:
        sys.exit("usage: piccolo rls doctor --token JWT [--table TABLE]")
    sys.exit(await run_doctor(token=token, table=table or None, as_json=json))


def bootstrap(superuser_url: str, database: str = "", workers: str = "") -> None:
    """Create the admin role and the database on a server (the one superuser step).

    :param superuser_url: a superuser connection URL, e.g. postgresql://postgres@host/postgres
        (on Citus: the coordinator's)
    :param database: the database to create (default: the one in WRITE_DATABASE_URL; one
        of the two is required)
    :param workers: Citus: the workers' superuser URLs, comma-separated, as the
        coordinator reaches them; the database and the extension are made on every node
        and the workers registered
    """
    from urllib.parse import urlparse

    from refresh.db.bootstrap import bootstrap as run_bootstrap
    from refresh.db.citus_bootstrap import bootstrap_citus

    settings = get_settings()
    if not database:
        database = urlparse(settings.write_database_url or "").path.lstrip("/")
    if not database:
        # Never a default: a database nobody named is a database nobody points a URL at.
        sys.exit(
            "say which database to create: piccolo rls bootstrap SUPERUSER_URL --database NAME "
            "(or set WRITE_DATABASE_URL first: its database is the one created)"
        )
    worker_urls = [url.strip() for url in workers.split(",") if url.strip()]
    try:
        if worker_urls:
            bootstrap_citus(superuser_url, worker_urls, database, settings)
        else:
            run_bootstrap(superuser_url, database, settings)
    except (RuntimeError, ValueError) as exc:
        sys.exit(str(exc))
    where = f"on the coordinator and {len(worker_urls)} worker(s)" if worker_urls else ""
    print(f"role {settings.admin_role} and database {database} are in place {where}".strip())
