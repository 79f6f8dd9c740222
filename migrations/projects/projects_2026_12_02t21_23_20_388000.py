"""State only: the foreign key attributes are named like their columns (`tenant_id`, not
`tenant` with db_column_name="tenant_id"); the columns themselves keep their names."""

from piccolo.columns.column_types import ForeignKey
from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T21:23:20:388000"
VERSION = "1.38.0"
DESCRIPTION = "foreign keys named like their columns (state only: the live schema has them)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="projects", description=DESCRIPTION
    )

    manager.rename_column(
        table_class_name="Project",
        tablename="project",
        old_column_name="tenant",
        new_column_name="tenant_id",
        old_db_column_name="tenant_id",
        new_db_column_name="tenant_id",
        schema=None,
    )

    return manager
