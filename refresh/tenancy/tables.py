"""The bases of the project's table classes: the client a table is bound to, its
timestamps, and what makes a table a tenant table.

The tenant root table (`Tenant`, of the tenants app) is named here, not imported: like
Django's AUTH_USER_MODEL, the platform refers to it by app and class name, and Piccolo
resolves the reference through its app registry when the table is first used.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import UUID, ForeignKey, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from refresh.db.engines import READ_DB
from refresh.tenancy.declarations import tenant_rls
from refresh.tenancy.routed import TenantRouted

#: The Piccolo app and table class of the tenant root table.
TENANT_ROOT_APP = "tenants"
TENANT_ROOT_TABLE = "Tenant"


def tenant_root_reference() -> dict[str, str]:
    """Arguments of a LazyTableReference to the tenant root table."""
    return {"table_class_name": TENANT_ROOT_TABLE, "app_name": TENANT_ROOT_APP}


def tenant_root_table() -> type[Table]:
    """The tenant root table class, looked up in the app registry."""
    return LazyTableReference(**tenant_root_reference()).resolve()


class ReadClientTable:
    """Binds a table to the read client, so handlers go through RLS by default.

    Piccolo tables default to piccolo_conf.DB, which is the write client (migrations
    need it). Mix this in first: `class Project(ReadClientTable, Timestamps, Table)`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if issubclass(cls, Table):  # not for mixins built on this one (TenantTable)
            kwargs.setdefault("db", READ_DB)
        super().__init_subclass__(**kwargs)


class Timestamps:
    """created_at/updated_at; a database trigger keeps updated_at current on every write."""

    created_at = Timestamptz(default=TimestamptzNow(), null=False)
    updated_at = Timestamptz(default=TimestamptzNow(), null=False)


class TenantTable(TenantRouted, ReadClientTable, Timestamps):
    """Base of every tenant table: a UUID `id`, `tenant_id`, timestamps, and tenant isolation.

    `tenant_id` references the tenant root table, is indexed, and defaults in the database
    to the tenant of the current request (auth.tenant_id()). The declared policies allow
    each command only on rows of that tenant; override `rls` to add policies. Its queries
    name the request's tenant as a constant (TenantRouted).
    """

    tenant_id: ForeignKey[Table] = ForeignKey(
        LazyTableReference(**tenant_root_reference()), null=False, index=True
    )
    # The key of every tenant table: Piccolo's default, a serial, would number every
    # tenant's rows in one sequence. A class may redeclare `id` (the same column); a key
    # of another name or type is refused (refresh/tenancy/tenant_rows.py).
    id = UUID(primary_key=True, default=UUID4())
    rls = tenant_rls()
