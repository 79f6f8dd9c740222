"""Tenants and their members.

`Tenant` is the root of isolation: a request sees only the tenant row whose id is its
JWT's `tenant_id`. Tenant tables subclass `TenantTable` (refresh/tenancy/tables.py).
"""

from __future__ import annotations

import re

from piccolo.columns import UUID, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.readable import Readable
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from refresh.db.claims import TenantRole
from refresh.tenancy.checks import choices_check
from refresh.tenancy.declarations import (
    AUTHENTICATED,
    Distribution,
    Policy,
    audited,
    row_security,
    tenant_rls,
)
from refresh.tenancy.naming import NO_TENANT, UUID_SHAPED, tenant_id_in
from refresh.tenancy.tables import ReadClientTable, TenantTable, Timestamps

SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$"
SLUG_RULE = (
    "1-63 lowercase letters, digits or dashes, starting with a letter or digit, "
    "and not a tenant id (32 hex digits)"
)


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot be a tenant's slug (the checks of `Tenant`, in Python, for the
    CLI's and the admin's messages), or None."""
    # fullmatch: re's `$` would accept a final newline, PostgreSQL's does not
    if re.fullmatch(SLUG_PATTERN, slug) is None or tenant_id_in(slug) is not None:
        return f"must be {SLUG_RULE}"
    return None


class Tenant(ReadClientTable, Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    slug = Varchar(length=63, unique=True, null=False)
    name = Varchar(length=200, null=False)

    tenant_slug_format = Check(f"slug ~ '{SLUG_PATTERN}'")
    # A slug that parses as a UUID would name another tenant's id wherever a command
    # takes "slug or id" (refresh/tenancy/naming.py): lookups read such text as an id.
    tenant_slug_not_an_id = Check(f"replace(slug, '-', '') !~ '{UUID_SHAPED}'")
    # The nil id is the platform's "no tenant" (its own audit entries): a tenant with it
    # would read them through its token and erase them with its own.
    tenant_id_not_nil = Check(f"id <> '{NO_TENANT}'")

    # A request sees its own tenant row only, and cannot change it.
    rls = row_security(
        Policy("own_tenant_select", "select", using="id = auth.tenant_id()"),
        grants={AUTHENTICATED: ("select",)},
        reason="the tenants themselves: keyed by id, not tenant_id",
        audit=audited(tenant_column="id"),
        # a copy on every node: every tenant table refers to it
        distribution=Distribution.reference,
    )

    @classmethod
    def get_readable(cls) -> Readable:
        """How a row is named where another row points at it (the admin's pickers)."""
        return Readable(template="%s", columns=[cls.slug])


class Member(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    user_id = Varchar(length=255, null=False)
    email = Varchar(length=320, null=False)
    display_name = Varchar(length=200, null=False)
    role = Varchar(length=16, choices=TenantRole, default=TenantRole.member, null=False)

    member_tenant_user_unique = Unique(["tenant_id", "user_id"])
    member_role_check = choices_check("role", TenantRole)

    # Every member reads the member list; only a tenant admin changes it.
    rls = tenant_rls(write_rule="auth.tenant_role() = 'admin'")

    @classmethod
    def get_readable(cls) -> Readable:
        """How a row is named where another row points at it (the admin's pickers)."""
        return Readable(template="%s", columns=[cls.display_name])
