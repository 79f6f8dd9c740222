"""Finding a tenant by slug or id, for system code (the CLI has no tenant context to go
through RLS with, so it reads through the write client)."""

from __future__ import annotations

import uuid

from refresh.db.clients import write_client
from refresh.tenancy.naming import find_tenant


async def find_tenant_id(slug_or_id: str) -> uuid.UUID | None:
    """The id of the tenant with this id or slug, or None: by id only when the text
    parses as one, else by slug only (refresh/tenancy/naming.py)."""
    async with write_client.connection() as connection:
        found = await find_tenant(connection, slug_or_id)
    return None if found is None else found[0]
