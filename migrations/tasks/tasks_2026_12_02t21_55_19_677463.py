"""State only: the references between tenant tables are TenantForeignKeys. In the database
they have been composite keys since tasks_2026_11_24t19_59_00_021608 (hand-written); their
constraints now belong to the RLS migrations (`piccolo rls new`), not to Piccolo, which
must neither alter nor re-create them."""

from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import ForeignKey
from refresh.schema.state_only import StateOnlyMigrationManager
from refresh.tenancy.columns import TenantForeignKey

ID = "2026-12-02T21:55:19:677463"
VERSION = "1.38.0"
DESCRIPTION = "references between tenant tables are TenantForeignKeys (state only)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="tasks", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Task",
        tablename="task",
        column_name="project_id",
        db_column_name="project_id",
        params={},
        old_params={},
        column_class=TenantForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Task",
        tablename="task",
        column_name="assignee_id",
        db_column_name="assignee_id",
        params={"on_delete": OnDelete.cascade},
        old_params={"on_delete": OnDelete.set_null},
        column_class=TenantForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="task_id",
        db_column_name="task_id",
        params={},
        old_params={},
        column_class=TenantForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="author_id",
        db_column_name="author_id",
        params={},
        old_params={},
        column_class=TenantForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
