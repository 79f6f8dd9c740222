"""The tenants app's pages in the admin (apps/admin/site.py adds hooks and validators, and
hides the tenant column from tenant staff)."""

from __future__ import annotations

from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import OrderBy

from apps.tenants.tables import Member, Tenant

ADMIN_PAGES = [
    TableConfig(
        Tenant,
        visible_columns=[Tenant.slug, Tenant.name, Tenant.created_at],
        visible_filters=[Tenant.slug, Tenant.name],
        link_column=Tenant.slug,
        menu_group="Tenants",
        order_by=[OrderBy(Tenant.slug)],
    ),
    TableConfig(
        Member,
        visible_columns=[Member.display_name, Member.email, Member.role, Member.tenant_id],
        visible_filters=[Member.display_name, Member.email, Member.role, Member.tenant_id],
        link_column=Member.display_name,
        menu_group="Tenants",
    ),
]
