"""System operations on tenants and members, through the write client (CLI, demo, tests)."""

from __future__ import annotations

import uuid

from apps.tenants.tables import Member, Tenant
from refresh.db.claims import TenantRole
from refresh.db.clients import write_client


async def create_tenant(slug: str, name: str) -> uuid.UUID:
    rows = await write_client.run(Tenant.insert(Tenant(slug=slug, name=name)).returning(Tenant.id))
    tenant_id: uuid.UUID = rows[0]["id"]
    return tenant_id


async def ensure_member(
    tenant_id: uuid.UUID, user_id: str, email: str, name: str, role: TenantRole | str
) -> None:
    exists = await write_client.run(
        Member.exists().where((Member.tenant_id == tenant_id) & (Member.user_id == user_id))
    )
    if not exists:
        await write_client.run(
            Member.insert(
                Member(
                    tenant_id=tenant_id, user_id=user_id, email=email, display_name=name, role=role
                )
            )
        )
