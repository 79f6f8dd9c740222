"""The demo data of `make run`: two tenants that must never see each other.

This app seeds the tenants and their members; every other registered app adds its own
demo rows from its `demo.py` (`seed_demo(tenants)`), found through the app registry.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from apps.tenants.operations import create_tenant, ensure_member
from refresh.db.claims import TenantRole
from refresh.db.clients import write_client
from refresh.registry import contributions
from refresh.tenancy.lookup import find_tenant_id

# slug -> (name, members: (user_id, email, display name, role)); the first is an admin
DEMO_TENANTS: dict[str, tuple[str, list[tuple[str, str, str, TenantRole]]]] = {
    "acme": (
        "Acme Corp",
        [
            ("alice", "alice@acme.test", "Alice Admin", TenantRole.admin),
            ("bob", "bob@acme.test", "Bob Builder", TenantRole.member),
        ],
    ),
    "globex": (
        "Globex Inc",
        [
            ("gina", "gina@globex.test", "Gina Globex", TenantRole.admin),
            ("hank", "hank@globex.test", "Hank Scorpio", TenantRole.member),
        ],
    ),
}


class DemoSeeder(Protocol):
    async def __call__(self, tenants: dict[str, uuid.UUID], base_url: str) -> list[str]: ...


async def seed_demo(base_url: str) -> tuple[dict[str, uuid.UUID], list[str]]:
    """Create what is missing (idempotent): ({slug: tenant id}, the lines the other apps'
    seeders want printed)."""
    tenants: dict[str, uuid.UUID] = {}
    notes: list[str] = []
    async with write_client.transaction():
        for slug, (name, members) in DEMO_TENANTS.items():
            tenant_id = await find_tenant_id(slug) or await create_tenant(slug, name)
            for user_id, email, display_name, role in members:
                await ensure_member(tenant_id, user_id, email, display_name, role)
            tenants[slug] = tenant_id
        for config, module in contributions("demo"):
            seeder: DemoSeeder | None = getattr(module, "seed_demo", None)
            if config.app_name != "tenants" and seeder is not None:
                notes += await seeder(tenants, base_url)
    return tenants, notes


def first_member(slug: str) -> str:
    """The demo tenant's first member (an admin): the subject of its printed token."""
    return DEMO_TENANTS[slug][1][0][0]
