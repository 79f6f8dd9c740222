"""Tenants and their members.

`Tenant` is the root of isolation: a request sees only the tenant row whose id is its
JWT's `tenant_id`. `TenantScoped` gives every tenant table its `tenant_id` column.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import UUID, ForeignKey, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from apps.rls.base import ReadClientTable, Timestamps


class Tenant(ReadClientTable, Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    slug = Varchar(length=63, unique=True, null=False)
    name = Varchar(length=200, null=False)

    tenant_slug_format = Check("slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'")


class TenantScoped:
    """The `tenant_id` column of a tenant table (RLS policies compare it to the JWT)."""

    tenant = ForeignKey(Tenant, null=False, index=True, db_column_name="tenant_id")


class MemberRole(StrEnum):
    member = "member"
    admin = "admin"


class Member(ReadClientTable, TenantScoped, Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    user_id = Varchar(length=255, null=False)
    email = Varchar(length=320, null=False)
    display_name = Varchar(length=200, null=False)
    role = Varchar(length=16, choices=MemberRole, default=MemberRole.member, null=False)

    member_tenant_user_unique = Unique(["tenant_id", "user_id"])
    member_role_check = Check("role in ('member', 'admin')")
