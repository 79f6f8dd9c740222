"""State only: the renamed foreign key attributes no longer need a db_column_name (their
name is their column's); recorded after the renames, which Piccolo applies after alters."""

from piccolo.columns.column_types import ForeignKey
from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T21:23:52:744184"
VERSION = "1.38.0"
DESCRIPTION = "foreign key columns without a db_column_name (state only)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="tenants", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Member",
        tablename="member",
        column_name="tenant_id",
        db_column_name="tenant_id",
        params={"db_column_name": None},
        old_params={"db_column_name": "tenant_id"},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
