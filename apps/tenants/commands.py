"""`piccolo tenants ...` commands. System operations: they use the write client."""

from __future__ import annotations

import sys

from apps.tenants.demo import first_member, seed_demo
from apps.tenants.operations import create_tenant
from apps.tenants.tables import Tenant, slug_problem
from refresh.db.claims import TenantRole
from refresh.db.clients import write_client
from refresh.web.tokens import issue_token
from settings import get_settings


async def create(slug: str, name: str = "") -> None:
    """Create a tenant and print its id.

    :param slug: lowercase letters, digits and dashes, e.g. acme
    :param name: the display name (default: the slug)
    """
    problem = slug_problem(slug)
    if problem:
        sys.exit(f"slug {problem}")
    if await write_client.run(Tenant.exists().where(Tenant.slug == slug)):
        sys.exit(f"a tenant with slug {slug!r} exists already")
    tenant_id = await create_tenant(slug, name or slug)
    print(tenant_id)


async def demo(port: int = 8000, host: str = "127.0.0.1") -> None:
    """Seed the demo tenants acme and globex (idempotent) and print a curl per tenant.

    :param port: the port printed in the curl commands
    :param host: the host printed in the curl commands
    """
    if get_settings().environment == "production":
        # The demo's logins and passwords are published (README): never on a real server.
        sys.exit(
            "refusing to seed the demo with ENVIRONMENT=production: it creates admin logins "
            "whose passwords are public (README). Create tenants with `piccolo tenants create`."
        )
    base_url = f"http://{host}:{port}"
    tenants, notes = await seed_demo(base_url)
    for slug, tenant_id in tenants.items():
        token = issue_token(
            get_settings(), tenant_id, first_member(slug), TenantRole.admin, 24 * 3600
        )
        print(f"# {slug}: its projects, and nothing of the other tenant's")
        print(f"curl -s -H 'Authorization: Bearer {token}' {base_url}/api/projects")
        print()
    for line in notes:
        print(line)
