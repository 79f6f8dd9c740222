from __future__ import annotations

import uuid

from apps.rls.clients import write_client
from apps.tenants.tables import Tenant


async def find_tenant_id(slug_or_id: str) -> uuid.UUID | None:
    """System lookup (write client): the CLI has no tenant context to go through RLS with."""
    try:
        condition = Tenant.id == uuid.UUID(slug_or_id)
    except ValueError:
        condition = Tenant.slug == slug_or_id
    row = await write_client.run(Tenant.select(Tenant.id).where(condition).first())
    return None if row is None else row["id"]
