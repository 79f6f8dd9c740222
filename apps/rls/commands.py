"""`piccolo rls ...` commands."""

from __future__ import annotations

import sys

from settings import get_settings


async def token(tenant: str = "", user: str = "", role: str = "member", ttl: int = 3600) -> None:
    """Print a signed JWT for a tenant (by slug or id) and user; nothing else on stdout.

    :param tenant: the tenant's slug or id
    :param user: the user id (the token's `sub`)
    :param role: member or admin (the token's `tenant_role`)
    :param ttl: lifetime in seconds
    """
    from apps.rls.jwt_auth import issue_token
    from apps.tenants.lookup import find_tenant_id

    if not tenant or not user:
        sys.exit(
            "usage: piccolo rls token --tenant SLUG_OR_ID --user USER_ID "
            "[--role member|admin] [--ttl SECONDS]"
        )
    if role not in ("member", "admin"):
        sys.exit("--role must be member or admin")
    if not 1 <= ttl <= 30 * 24 * 3600:
        sys.exit("--ttl must be between 1 second and 30 days")
    tenant_id = await find_tenant_id(tenant)
    if tenant_id is None:
        sys.exit(f"no tenant with slug or id {tenant!r}")
    print(issue_token(get_settings(), tenant_id, user, role, ttl))


def bootstrap(superuser_url: str, database: str = "") -> None:
    """Create the admin role and the database on a server (the one superuser step).

    :param superuser_url: a superuser connection URL, e.g. postgresql://postgres@host/postgres
    :param database: the database to create (default: the one in WRITE_DATABASE_URL)
    """
    from urllib.parse import urlparse

    from apps.rls.bootstrap import bootstrap as run_bootstrap

    settings = get_settings()
    if not database:
        url = settings.write_database_url or ""
        database = urlparse(url).path.lstrip("/") or settings.embedded_database
    run_bootstrap(superuser_url, database, settings)
    print(f"role {settings.admin_role} and database {database} are in place")
