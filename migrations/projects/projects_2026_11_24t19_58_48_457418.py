from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.constraints import Unique

ID = "2026-11-24T19:58:48:457418"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="projects", description=DESCRIPTION
    )

    manager.add_constraint(
        table_class_name="Project",
        tablename="project",
        constraint_name="project_tenant_id_id_key",
        constraint_class=Unique,
        params={"columns": ["tenant_id", "id"], "nulls_distinct": True},
        schema=None,
    )

    return manager
