"""operator_action gets its audit entry's tenant and calls the entry's id `id`: it is
sharded by tenant beside audit_log (refresh/rls/tables.py).

Piccolo adds a NOT NULL column without a default in one statement, which fails on a table
with rows; so the rows first wait in `operator_action_previous` (a raw step runs before the
column changes) and come back with their entry's tenant in the next migration
(rls_2026_12_03t10_04_00_000000).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID
from piccolo.columns.indexes import IndexMethod

from refresh.schema.migration_sql import execute

ID = "2026-12-03T10:02:38:372288"
VERSION = "1.38.0"
DESCRIPTION = "operator_action: the audit entry's tenant, and id for audit_id"


async def set_rows_aside():
    await execute(
        "create table operator_action_previous as select * from operator_action;"
        " delete from operator_action;"
    )


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="rls", description=DESCRIPTION
    )

    manager.add_raw(set_rows_aside)

    manager.add_column(
        table_class_name="OperatorAction",
        tablename="operator_action",
        column_name="tenant_id",
        db_column_name="tenant_id",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.rename_column(
        table_class_name="OperatorAction",
        tablename="operator_action",
        old_column_name="audit_id",
        new_column_name="id",
        old_db_column_name="audit_id",
        new_db_column_name="id",
        schema=None,
    )

    return manager
