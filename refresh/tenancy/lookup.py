"""Finding a tenant by slug or id, for system code (the CLI has no tenant context to go
through RLS with, so it reads through the write client)."""

from __future__ import annotations

import uuid

from refresh.db.clients import write_client
from refresh.tenancy.tables import tenant_root_table


async def find_tenant_id(slug_or_id: str) -> uuid.UUID | None:
    """The id of the tenant with this id or slug, or None."""
    tenant = tenant_root_table()
    try:
        condition = tenant._meta.primary_key == uuid.UUID(slug_or_id)
    except ValueError:
        condition = tenant._meta.get_column_by_name("slug") == slug_or_id
    row = await write_client.run(tenant.select(tenant._meta.primary_key).where(condition).first())
    return None if row is None else row["id"]
