"""Hand-written: what Piccolo cannot declare.

1. Composite foreign keys (tenant_id, x_id) -> x (tenant_id, id), replacing Piccolo's. Foreign key checks
   ignore RLS, so a plain key would let tenant B point a task at tenant A's project (and
   learn from the error whether the id exists). With tenant_id in the key the database
   refuses any cross-tenant reference, with the same error whether the row exists
   elsewhere or not; the same shape is what Citus needs to co-locate tenant tables.
2. Indexes for the API's access paths, each leading with tenant_id (DESIGN.md).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-11-24T19:59:00:021608"
VERSION = "1.38.0"
DESCRIPTION = "tenant-safe composite foreign keys and access-path indexes for tasks, comments"

FORWARDS = """
alter table task add constraint task_project_same_tenant
  foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade;
alter table task add constraint task_assignee_same_tenant
  foreign key (tenant_id, assignee_id) references member (tenant_id, id)
  on delete set null (assignee_id);
alter table comment add constraint comment_task_same_tenant
  foreign key (tenant_id, task_id) references task (tenant_id, id) on delete cascade;
alter table comment add constraint comment_author_same_tenant
  foreign key (tenant_id, author_id) references member (tenant_id, id) on delete cascade;
-- Piccolo's single-column keys go: they would check (and lock) the referenced row of
-- any tenant, a side channel, and Citus refuses keys without the distribution column.
alter table task drop constraint task_project_id_fkey;
alter table task drop constraint task_assignee_id_fkey;
alter table comment drop constraint comment_task_id_fkey;
alter table comment drop constraint comment_author_id_fkey;

-- the composite keys' own indexes (and the project/assignee filters of the task list)
create index task_tenant_project_idx on task (tenant_id, project_id, created_at desc, id);
create index task_tenant_assignee_idx on task (tenant_id, assignee_id);
create index comment_tenant_task_idx on comment (tenant_id, task_id, created_at, id);
create index comment_tenant_author_idx on comment (tenant_id, author_id);
-- the task list's sort orders (keyset pagination; a b-tree serves both directions)
create index task_tenant_created_idx on task (tenant_id, created_at, id);
create index task_tenant_priority_idx on task (tenant_id, priority, id);
-- due dates: NULL sorts last both ways, so ascending and descending use different keys
create index task_tenant_due_idx on task (tenant_id, (coalesce(due_at, 'infinity')), id);
create index task_tenant_due_desc_idx on task (tenant_id, (coalesce(due_at, '-infinity')), id);
"""

BACKWARDS = """
drop index if exists task_tenant_due_desc_idx;
drop index if exists task_tenant_due_idx;
drop index if exists task_tenant_priority_idx;
drop index if exists task_tenant_created_idx;
drop index if exists comment_tenant_author_idx;
drop index if exists comment_tenant_task_idx;
drop index if exists task_tenant_assignee_idx;
drop index if exists task_tenant_project_idx;
alter table comment add constraint comment_author_id_fkey
  foreign key (author_id) references member (id) on delete cascade on update cascade;
alter table comment add constraint comment_task_id_fkey
  foreign key (task_id) references task (id) on delete cascade on update cascade;
alter table task add constraint task_assignee_id_fkey
  foreign key (assignee_id) references member (id) on delete set null on update cascade;
alter table task add constraint task_project_id_fkey
  foreign key (project_id) references project (id) on delete cascade on update cascade;
alter table comment drop constraint if exists comment_author_same_tenant;
alter table comment drop constraint if exists comment_task_same_tenant;
alter table task drop constraint if exists task_assignee_same_tenant;
alter table task drop constraint if exists task_project_same_tenant;
"""


async def forwards():
    return sql_migration(ID, "tasks", DESCRIPTION, FORWARDS, BACKWARDS)
