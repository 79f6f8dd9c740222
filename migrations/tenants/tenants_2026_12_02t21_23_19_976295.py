"""State only: the foreign key attributes are named like their columns (`tenant_id`, not
`tenant` with db_column_name="tenant_id"); the columns themselves keep their names."""

from piccolo.columns.column_types import ForeignKey
from refresh.schema.state_only import StateOnlyMigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-02T21:23:19:976295"
VERSION = "1.38.0"
DESCRIPTION = "foreign keys named like their columns (state only: the live schema has them)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="tenants", description=DESCRIPTION
    )

    manager.rename_column(
        table_class_name="Member",
        tablename="member",
        old_column_name="tenant",
        new_column_name="tenant_id",
        old_db_column_name="tenant_id",
        new_db_column_name="tenant_id",
        schema=None,
    )

    manager.alter_column(
        table_class_name="Member",
        tablename="member",
        column_name="role",
        db_column_name="role",
        params={
            "choices": Enum("TenantRole", {"member": "member", "admin": "admin"})
        },
        old_params={
            "choices": Enum("MemberRole", {"member": "member", "admin": "admin"})
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
