"""Row-Level Security, grants, access-path index and updated_at trigger for project."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from apps.rls.migration_sql import execute

ID = "2026-11-24T19:42:43:677189"
VERSION = "1.38.0"
DESCRIPTION = "RLS, policies, grants, index and updated_at trigger for project"

FORWARDS = """
-- The list endpoint's access path: a tenant's projects, newest first.
create index project_tenant_created_idx on project (tenant_id, created_at desc, id);

alter table project enable row level security;
alter table project force row level security;
create policy project_select on project for select to {authenticated}
  using (tenant_id = auth.tenant_id());
create policy project_insert on project for insert to {authenticated}
  with check (tenant_id = auth.tenant_id());
create policy project_update on project for update to {authenticated}
  using (tenant_id = auth.tenant_id()) with check (tenant_id = auth.tenant_id());
create policy project_delete on project for delete to {authenticated}
  using (tenant_id = auth.tenant_id());
grant select, insert, update, delete on project to {authenticated};
create trigger project_set_updated_at before update on project
  for each row execute function public.set_updated_at();
"""

BACKWARDS = """
drop trigger if exists project_set_updated_at on project;
revoke all on project from {authenticated};
drop policy if exists project_delete on project;
drop policy if exists project_update on project;
drop policy if exists project_insert on project;
drop policy if exists project_select on project;
alter table project no force row level security;
alter table project disable row level security;
drop index if exists project_tenant_created_idx;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def run() -> None:
        await execute(FORWARDS)

    async def run_backwards() -> None:
        await execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
