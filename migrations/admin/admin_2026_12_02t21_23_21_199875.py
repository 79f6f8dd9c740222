"""State only: the admin's login and session tables are declared through subclasses
(AdminUser of Piccolo's BaseUser, AdminSession of piccolo-api's SessionsBase), on the
same tables; staff_profile's foreign key attributes are named like their columns."""

from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T21:23:21:199875"
VERSION = "1.38.0"
DESCRIPTION = "admin tables declared through subclasses (state only: the live schema has them)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="admin", description=DESCRIPTION
    )

    manager.rename_table(
        old_class_name="BaseUser",
        old_tablename="piccolo_user",
        new_class_name="AdminUser",
        new_tablename="piccolo_user",
        schema=None,
    )

    manager.rename_table(
        old_class_name="SessionsBase",
        old_tablename="sessions",
        new_class_name="AdminSession",
        new_tablename="sessions",
        schema=None,
    )

    for old, new in (("user", "user_id"), ("tenant", "tenant_id")):
        manager.rename_column(
            table_class_name="StaffProfile",
            tablename="staff_profile",
            old_column_name=old,
            new_column_name=new,
            old_db_column_name=new,
            new_db_column_name=new,
            schema=None,
        )

    manager.add_column(
        table_class_name="AdminUser",
        tablename="piccolo_user",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="AdminSession",
        tablename="sessions",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "id",
            "secret": False,
        },
        schema=None,
    )

    return manager
