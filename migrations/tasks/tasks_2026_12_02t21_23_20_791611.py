"""State only: the foreign key attributes are named like their columns (`tenant_id`, not
`tenant` with db_column_name="tenant_id"); the columns themselves keep their names."""

from piccolo.columns.column_types import ForeignKey
from refresh.schema.state_only import StateOnlyMigrationManager

ID = "2026-12-02T21:23:20:791611"
VERSION = "1.38.0"
DESCRIPTION = "foreign keys named like their columns (state only: the live schema has them)"


async def forwards():
    manager = StateOnlyMigrationManager(
        migration_id=ID, app_name="tasks", description=DESCRIPTION
    )

    manager.rename_column(
        table_class_name="Task",
        tablename="task",
        old_column_name="assignee",
        new_column_name="assignee_id",
        old_db_column_name="assignee_id",
        new_db_column_name="assignee_id",
        schema=None,
    )

    manager.rename_column(
        table_class_name="Task",
        tablename="task",
        old_column_name="project",
        new_column_name="project_id",
        old_db_column_name="project_id",
        new_db_column_name="project_id",
        schema=None,
    )

    manager.rename_column(
        table_class_name="Task",
        tablename="task",
        old_column_name="tenant",
        new_column_name="tenant_id",
        old_db_column_name="tenant_id",
        new_db_column_name="tenant_id",
        schema=None,
    )

    manager.rename_column(
        table_class_name="Comment",
        tablename="comment",
        old_column_name="author",
        new_column_name="author_id",
        old_db_column_name="author_id",
        new_db_column_name="author_id",
        schema=None,
    )

    manager.rename_column(
        table_class_name="Comment",
        tablename="comment",
        old_column_name="task",
        new_column_name="task_id",
        old_db_column_name="task_id",
        new_db_column_name="task_id",
        schema=None,
    )

    manager.rename_column(
        table_class_name="Comment",
        tablename="comment",
        old_column_name="tenant",
        new_column_name="tenant_id",
        old_db_column_name="tenant_id",
        new_db_column_name="tenant_id",
        schema=None,
    )

    return manager
