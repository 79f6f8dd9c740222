"""Hand-written: indexes for the admin's sort orders on task.

piccolo-admin sorts by the plain column (`ORDER BY due_at`, `ORDER BY title`), which the
API's coalesce(due_at, ...) indexes cannot serve: on a 200,000-task tenant each such sort
read and sorted every task of the tenant (bench/RESULTS.md, "Admin, large tenant").
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-11-24T22:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the admin's sorts of tasks by due date and title"

FORWARDS = """
create index task_tenant_due_at_plain_idx on task (tenant_id, due_at, id);
create index task_tenant_title_idx on task (tenant_id, title, id);
"""

BACKWARDS = """
drop index if exists task_tenant_title_idx;
drop index if exists task_tenant_due_at_plain_idx;
"""


async def forwards():
    return sql_migration(ID, "tasks", DESCRIPTION, FORWARDS, BACKWARDS)
