"""State only: audit_log.tenant_id is NOT NULL. The table and its change are the admin
app's history (migrations/admin/admin_2026_12_02t23_00_05_000000.py, which fills the
nil uuid first); on a new database this app's migrations run before the table exists."""

from piccolo.columns.column_types import UUID

from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T22:55:40:173713"
VERSION = "1.38.0"
DESCRIPTION = "audit_log.tenant_id NOT NULL (state only)"


async def forwards():
    manager = StateOnlyMigrationManager(migration_id=ID, app_name="rls", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="AuditLog",
        tablename="audit_log",
        column_name="tenant_id",
        db_column_name="tenant_id",
        params={"null": False},
        old_params={"null": True},
        column_class=UUID,
        old_column_class=UUID,
        schema=None,
    )

    return manager
