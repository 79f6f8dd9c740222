from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from refresh.tenancy.columns import TenantForeignKey

ID = "2026-12-06T22:33:53:316940"
VERSION = "1.38.0"
DESCRIPTION = "comment authors may be null: removing a member keeps their comments"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tasks", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="author_id",
        db_column_name="author_id",
        params={"null": True},
        old_params={"null": False},
        column_class=TenantForeignKey,
        old_column_class=TenantForeignKey,
        schema=None,
    )

    return manager
