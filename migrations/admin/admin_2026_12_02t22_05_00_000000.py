"""Hand-written: the admin app's old audit triggers and their function go.

Every audited table now has the platform's trigger `audit_change` (made by each app's RLS
migration from the table declarations, with the platform's function of
migrations/rls/rls_2026_12_02t21_55_00_000000.py). The triggers `audit` and the function
`audit_record()` that this app's migration of 2026-11-24 made by hand would record every
change twice. Backwards they come back (the same definitions as then).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-02T22:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the old audit triggers and audit_record(): audit_change() replaces them"

FORWARDS = """
drop trigger if exists audit on tenant;
drop trigger if exists audit on member;
drop trigger if exists audit on project;
drop trigger if exists audit on task;
drop trigger if exists audit on comment;
drop trigger if exists audit on staff_profile;
drop trigger if exists audit on piccolo_user;
drop function if exists audit_record();
"""

# The definitions of admin_2026_11_24t22_09_10_000000, as they were.
BACKWARDS = """
-- Arguments: the column holding the row's tenant ('' for none), then columns whose
-- change alone is not worth an entry (updated_at, last_login).
create function audit_record() returns trigger
language plpgsql security definer
-- pg_temp last, explicitly: otherwise it is searched first, and a session's temporary
-- table named audit_log would receive the entries of a function running as the owner.
set search_path = pg_catalog, public, pg_temp as $$
declare
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  row_data jsonb := coalesce(new_row, old_row);
  quiet text[] := coalesce(tg_argv[1:], '{}');
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  operator text := case when session_user = {admin_literal}
                        then nullif(current_setting('refresh.actor', true), '') end;
  changes jsonb;
begin
  if tg_op = 'UPDATE' then
    select coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)),
                    '{}')
      into changes
      from jsonb_each(new_row) n join jsonb_each(old_row) o using (key)
     where n.value is distinct from o.value;
    if (select bool_and(key = any (quiet)) from jsonb_object_keys(changes) key) is not false then
      return null;  -- nothing changed but bookkeeping columns
    end if;
    changes := changes - quiet;
  else
    changes := row_data;
  end if;
  if changes ? 'password' then
    changes := jsonb_set(changes, '{password}', '"(hidden)"');
  end if;
  insert into public.audit_log (id, created_at, actor, via, tenant_id, table_name, row_id, action, changes)
  values (
    gen_random_uuid(), clock_timestamp(),
    left(coalesce(operator, claims ->> 'sub', nullif(current_setting('application_name'), ''),
                  session_user::text), 255),
    case when operator is not null then 'operator'
         when claims is not null then coalesce(left(claims ->> 'via', 32), 'api')
         else 'write client' end,
    case when tg_argv[0] <> '' then (row_data ->> tg_argv[0])::uuid end,
    tg_table_name, row_data ->> 'id', lower(tg_op), changes);
  return null;
end
$$;
revoke execute on function audit_record() from public;


create trigger audit after insert or update or delete on tenant
  for each row execute function audit_record('id', 'updated_at');
create trigger audit after insert or update or delete on member
  for each row execute function audit_record('tenant_id', 'updated_at');
create trigger audit after insert or update or delete on project
  for each row execute function audit_record('tenant_id', 'updated_at');
create trigger audit after insert or update or delete on task
  for each row execute function audit_record('tenant_id', 'updated_at');
create trigger audit after insert or update or delete on comment
  for each row execute function audit_record('tenant_id', 'updated_at');
create trigger audit after insert or update or delete on staff_profile
  for each row execute function audit_record('tenant_id', 'updated_at');
create trigger audit after insert or update or delete on piccolo_user
  for each row execute function audit_record('', 'last_login');
"""


async def forwards():
    return sql_migration(ID, "admin", DESCRIPTION, FORWARDS, BACKWARDS)
