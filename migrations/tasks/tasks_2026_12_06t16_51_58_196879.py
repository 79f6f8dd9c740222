from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.constraints import Check

from refresh.schema.preflight import refuse_breaking_rows

ID = "2026-12-06T16:51:58:196879"
VERSION = "1.38.0"
DESCRIPTION = "due dates are finite"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tasks", description=DESCRIPTION
    )

    manager.add_constraint(
        table_class_name="Task",
        tablename="task",
        constraint_name="task_due_at_finite",
        constraint_class=Check,
        params={"condition": "isfinite(due_at)"},
        schema=None,
    )

    # Rows that break a check are named before anything changes (a database upgraded
    # with such rows would otherwise fail with PostgreSQL's "violated by some row").
    refuse_breaking_rows(manager)

    return manager
