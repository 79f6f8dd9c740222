"""The audit log's page in both admin sites: read-only, newest first, filterable by time,
actor, table, action and row; for operators the tenant is shown (and filtered) by its
slug, for staff not at all (they have one tenant)."""

from __future__ import annotations

from piccolo.conf.apps import Finder
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import OrderBy, PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

from apps.admin.checks import known_columns
from refresh.rls.tables import AuditLog
from refresh.tenancy.declarations import Audit, declaration_of
from refresh.tenancy.naming import NO_TENANT as NO_TENANT_ID
from refresh.tenancy.tables import tenant_root_table

# Beyond this many tenants the schema would carry them all: ids are shown instead.
MAX_TENANT_LABELS = 1000
NO_TENANT = str(NO_TENANT_ID)  # a row of no tenant (a login)


async def refuse_change(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail="the audit log is read-only")


READ_ONLY = Validators(
    every=[known_columns],
    post_single=[refuse_change],
    put_single=[refuse_change],
    patch_single=[refuse_change],
    delete_single=[refuse_change],
    delete_all=[refuse_change],
)


def audit_page(staff: bool) -> TableConfig:
    columns = [
        AuditLog.created_at,
        AuditLog.tenant_id,
        AuditLog.actor,
        AuditLog.via,
        AuditLog.action,
        AuditLog.table_name,
        AuditLog.row_id,
        AuditLog.changes,
    ]
    filters = [c for c in columns if c is not AuditLog.changes]
    hide = {AuditLog.tenant_id} if staff else set()
    return TableConfig(
        AuditLog,
        visible_columns=[c for c in columns if c not in hide],
        visible_filters=[c for c in filters if c not in hide],
        link_column=AuditLog.created_at,
        menu_group="Admin",
        order_by=[OrderBy(AuditLog.created_at, ascending=False)],
        validators=READ_ONLY,
    )


async def tenant_labels() -> dict[str, str]:
    """Every tenant's slug by its id, for the operators' audit log (in the operator's
    transaction: every tenant). An erased tenant's entries keep showing its id."""
    tenant = tenant_root_table()
    slug = tenant._meta.get_column_by_name("slug")
    key = tenant._meta.primary_key
    rows = await tenant.select(key, slug).order_by(slug).limit(MAX_TENANT_LABELS + 1)
    if len(rows) > MAX_TENANT_LABELS:
        return {}
    labels = {str(row[key._meta.name]): row["slug"] for row in rows}
    return {**labels, NO_TENANT: "(no tenant)"}


async def table_labels() -> dict[str, str]:
    """The audited tables, for the table filter's drop-down."""
    names = sorted(
        table._meta.tablename
        for config in Finder().get_app_registry().app_configs.values()
        for table in config.table_classes
        if isinstance(getattr(declaration_of(table), "audit", None), Audit)
    )
    return {name: name for name in names}


OPERATOR_LABELS = {
    AuditLog._meta.tablename: {
        AuditLog.tenant_id._meta.name: tenant_labels,
        AuditLog.table_name._meta.name: table_labels,
    }
}
STAFF_LABELS = {AuditLog._meta.tablename: {AuditLog.table_name._meta.name: table_labels}}
