"""State only: the audit log's table class moved to the platform (refresh/rls/tables.py,
the rls app). The table stays where it is: this app's first migrations created it."""

from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T21:54:22:115205"
VERSION = "1.38.0"
DESCRIPTION = "the audit log's table class moved to the rls app (state only)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="admin", description=DESCRIPTION
    )

    manager.drop_table(class_name="AuditLog", tablename="audit_log", schema=None)

    return manager
