from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.constraints import Unique

ID = "2026-11-24T19:58:48:961574"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tenants", description=DESCRIPTION
    )

    manager.add_constraint(
        table_class_name="Member",
        tablename="member",
        constraint_name="member_tenant_id_id_key",
        constraint_class=Unique,
        params={"columns": ["tenant_id", "id"], "nulls_distinct": True},
        schema=None,
    )

    return manager
