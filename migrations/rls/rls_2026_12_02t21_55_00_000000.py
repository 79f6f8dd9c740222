"""Hand-written: the audit trigger function of the platform, and RLS on Piccolo's own table.

`audit_change()` records every insert, update and delete of a table that declares audit
(refresh/tenancy/declarations.py); `piccolo rls new` generates its triggers. It replaces
the admin app's `audit_record()` (dropped by the admin app's migrations once every table
has the new trigger), and differs from it in two ways:

- the table's name comes from the trigger's arguments: under Citus the trigger fires on
  a shard, whose own name (task_102181) is not the table's;
- the actor is written in a namespace per kind, so that none can pass for another:
  `api:<sub>` for a token (a token's sub of `operator:x` stays `api:operator:x`),
  `staff:<username>` for tenant staff, `operator` for an operator (the operator's name is
  written to operator_action, which request roles cannot read: staff see that an
  operator changed their rows, not who), `system:<application_name>` for the write
  client (CLI commands, jobs).

The function is SECURITY DEFINER so that a request role can record a change without any
privilege on the log beyond SELECT; nobody but its owner may call it directly (a trigger
needs no EXECUTE privilege to fire).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-02T21:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_change(): the audit trigger function, actors by namespace; RLS on migration"

FORWARDS = """
-- Arguments: the table's name, the column holding the row's tenant ('' for none), then
-- columns whose change alone is not worth an entry (updated_at, last_login).
create or replace function public.audit_change() returns trigger
language plpgsql security definer
-- pg_temp last, explicitly: otherwise it is searched first, and a session's temporary
-- table named audit_log would receive the entries of a function running as the owner.
set search_path = pg_catalog, public, pg_temp as $$
declare
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  row_data jsonb := coalesce(new_row, old_row);
  quiet text[] := coalesce(tg_argv[2:], '{}');
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  -- refresh.actor is trusted on the write client's own connections only
  operator text := case when session_user = {admin_literal}
                        then nullif(current_setting('refresh.actor', true), '') end;
  subject text := coalesce(claims ->> 'sub', '');
  via text;
  actor text;
  changes jsonb;
  entry uuid := gen_random_uuid();
begin
  if to_regclass('public.audit_log') is null then
    -- The first migrations of a new database run before the log's table exists.
    return null;
  end if;
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
  if operator is null and claims ->> 'via' = 'admin' and subject like 'operator:%' then
    operator := subject;  -- an operator viewing the admin as a tenant's staff
  end if;
  if operator is not null then
    via := 'operator';
    actor := 'operator';
  elsif claims is not null then
    -- via is the server's to say (refresh/db/claims.py), never the token's
    via := coalesce(left(claims ->> 'via', 32), 'api');
    actor := case when via = 'api' then 'api:' || subject else subject end;
  else
    via := 'write client';
    actor := 'system:' || coalesce(nullif(current_setting('application_name'), ''),
                                   session_user::text);
  end if;
  insert into public.audit_log
    (id, created_at, actor, via, tenant_id, table_name, row_id, action, changes)
  values (
    entry, clock_timestamp(), left(actor, 255), via,
    case when tg_argv[1] <> '' then (row_data ->> tg_argv[1])::uuid end,
    tg_argv[0], row_data ->> 'id', lower(tg_op), changes);
  if operator is not null then
    insert into public.operator_action (audit_id, operator) values (entry, left(operator, 255));
  end if;
  return null;
end
$$;
revoke execute on function public.audit_change() from public;

-- Nothing in the schema without RLS: Piccolo's own table too (only the admin role,
-- which bypasses RLS, ever reads it).
alter table migration enable row level security;
alter table migration force row level security;
"""

BACKWARDS = """
alter table migration no force row level security;
alter table migration disable row level security;
drop function if exists public.audit_change();
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
