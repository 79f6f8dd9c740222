"""What the admin keeps about a tenant outside its rows, ended when the tenant is erased
(refresh/lifecycle/erase.py calls `tenant_erased` of each app's `erasure` module, in the
erase's transaction: an import that replaces the tenant erases it first).

An operator's view of the tenant (`sessions.viewing`, apps/admin/view_as.py) is not a
foreign key: the gate ignores a view of a tenant that does not exist, but an import
brings the same id back, and the view, with its writes, would resume unannounced.
"""

from __future__ import annotations

import uuid
from typing import Any

from apps.admin.tables import AdminSession
from refresh.db.sql import ident


async def tenant_erased(connection: Any, tenant_id: uuid.UUID) -> None:
    """Every session's view of the tenant ends (not audited: the erase removes the
    tenant's audit entries, and records itself)."""
    await connection.execute(
        f"update {ident(AdminSession._meta.tablename)}"
        " set viewing = null, viewing_writes = false where viewing = $1",
        tenant_id,
    )
