"""Row-Level Security for tenants and members (hand-written until declarations exist).

Piccolo runs a migration's raw SQL before its auto operations, so policies live in this
migration, after the one that created the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from apps.rls.migration_sql import execute

ID = "2026-11-24T19:42:42:059163"
VERSION = "1.38.0"
DESCRIPTION = "RLS, policies, grants and updated_at triggers for tenant and member"

FORWARDS = """
-- A request sees only its own tenant row, read-only.
alter table tenant enable row level security;
alter table tenant force row level security;
create policy tenant_select on tenant for select to {authenticated}
  using (id = auth.tenant_id());
grant select on tenant to {authenticated};
create trigger tenant_set_updated_at before update on tenant
  for each row execute function public.set_updated_at();

alter table member enable row level security;
alter table member force row level security;
create policy member_select on member for select to {authenticated}
  using (tenant_id = auth.tenant_id());
create policy member_insert on member for insert to {authenticated}
  with check (tenant_id = auth.tenant_id());
create policy member_update on member for update to {authenticated}
  using (tenant_id = auth.tenant_id()) with check (tenant_id = auth.tenant_id());
create policy member_delete on member for delete to {authenticated}
  using (tenant_id = auth.tenant_id());
grant select, insert, update, delete on member to {authenticated};
create trigger member_set_updated_at before update on member
  for each row execute function public.set_updated_at();
"""

BACKWARDS = """
drop trigger if exists member_set_updated_at on member;
revoke all on member from {authenticated};
drop policy if exists member_delete on member;
drop policy if exists member_update on member;
drop policy if exists member_insert on member;
drop policy if exists member_select on member;
alter table member no force row level security;
alter table member disable row level security;

drop trigger if exists tenant_set_updated_at on tenant;
revoke all on tenant from {authenticated};
drop policy if exists tenant_select on tenant;
alter table tenant no force row level security;
alter table tenant disable row level security;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        await execute(FORWARDS)

    async def run_backwards() -> None:
        await execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
