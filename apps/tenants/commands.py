"""`piccolo tenants ...` commands. System operations: they use the write client."""

from __future__ import annotations

import re
import sys
import uuid

from apps.rls.clients import write_client
from apps.tenants.tables import Member, Tenant

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def create(slug: str, name: str = "") -> None:
    """Create a tenant and print its id.

    :param slug: lowercase letters, digits and dashes, e.g. acme
    :param name: the display name (default: the slug)
    """
    if not SLUG.match(slug):
        sys.exit(
            "slug must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit"
        )
    if await write_client.run(Tenant.exists().where(Tenant.slug == slug)):
        sys.exit(f"a tenant with slug {slug!r} exists already")
    tenant_id = await create_tenant(slug, name or slug)
    print(tenant_id)


async def create_tenant(slug: str, name: str) -> uuid.UUID:
    rows = await write_client.run(Tenant.insert(Tenant(slug=slug, name=name)).returning(Tenant.id))
    tenant_id: uuid.UUID = rows[0]["id"]
    return tenant_id


async def demo(port: int = 8000, host: str = "127.0.0.1") -> None:
    """Seed the demo tenants acme and globex (idempotent) and print a curl per tenant.

    :param port: the port printed in the curl commands
    :param host: the host printed in the curl commands
    """
    from apps.tenants.demo import seed_admin_logins, seed_demo

    for slug, token in await seed_demo():
        print(f"# {slug}: its projects, and nothing of the other tenant's")
        print(f"curl -s -H 'Authorization: Bearer {token}' http://{host}:{port}/api/projects")
        print()
    print(f"# the admin UI: http://{host}:{port}/admin/")
    for username, password, staff_of in await seed_admin_logins():
        who = f"staff of {staff_of}" if staff_of else "operator, every tenant"
        print(f"#   {username} / {password}  ({who})")


async def ensure_member(
    tenant_id: uuid.UUID, user_id: str, email: str, name: str, role: str
) -> None:
    exists = await write_client.run(
        Member.exists().where((Member.tenant == tenant_id) & (Member.user_id == user_id))
    )
    if not exists:
        await write_client.run(
            Member.insert(
                Member(tenant=tenant_id, user_id=user_id, email=email, display_name=name, role=role)
            )
        )
