"""How a tenant is named on a command line or in a form: by its id or by its slug, never
ambiguously. One rule, `tenant_id_in`, used by the one lookup (`find_tenant`: the lifecycle
commands, the API's export, and through `refresh/tenancy/lookup.py` staff-create, `rls
token` and the demo) and by the slug's own validation (apps/tenants/tables.py): a text
that parses as a UUID is an id, anything else a slug. Slugs are therefore refused when
they would parse as a UUID, so that a slug can never name another tenant.

No client imported here (the lookup runs on the caller's connection): table modules
import it to declare their checks.
"""

from __future__ import annotations

import uuid
from typing import Any

from refresh.db.sql import ident
from refresh.tenancy.tables import tenant_root_table

#: The id of no tenant: the platform's own audit entries (logins, staff profiles) carry it
#: (refresh/rls/tables.py). No tenant may have it, or that tenant would read and erase them.
NO_TENANT = uuid.UUID(int=0)

#: What `uuid.UUID` accepts of a slug's alphabet ([a-z0-9-]): 32 hex digits once its
#: dashes are removed, wherever they are. The tenant table's check says the same in SQL.
UUID_SHAPED = "^[0-9a-f]{32}$"


def tenant_id_in(slug_or_id: str) -> uuid.UUID | None:
    """The id a tenant is named by, if the text parses as one; None: it is a slug."""
    try:
        return uuid.UUID(slug_or_id)
    except ValueError:
        return None


async def find_tenant(connection: Any, slug_or_id: str) -> tuple[uuid.UUID, str] | None:
    """(id, slug) of the tenant named, read on `connection`: by id only when the text
    parses as one, else by slug only, so that one text never names two tenants."""
    root = ident(tenant_root_table()._meta.tablename)
    tenant_id = tenant_id_in(slug_or_id)
    if tenant_id is not None:
        row = await connection.fetchrow(f"select id, slug from {root} where id = $1", tenant_id)
    else:
        row = await connection.fetchrow(f"select id, slug from {root} where slug = $1", slug_or_id)
    return None if row is None else (row["id"], row["slug"])
