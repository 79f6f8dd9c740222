"""Hand-written: the audit trigger writes the operator's name beside its entry (issue 14).

operator_action is sharded by tenant beside audit_log (rls_2026_12_03t10_02_38_372288
gave it the entry's tenant; rls_2026_12_03t10_03_18_749630 its key (tenant_id, id)):
`audit_change()` inserts the entry's tenant with the name, so an operator's change to a
tenant row on Citus writes both rows on that tenant's node (a reference table could not be
written from a shard's trigger). The rows set aside by the first of those migrations come
back with their entry's tenant; a name whose entry is gone (none should be) is kept under
the nil uuid, the platform's.

The write client may also set `refresh.audit = off` for its transaction: a tenant import
restores the file's audit entries itself (on Citus, a trigger writing the log from a
shard during the import's COPY is refused as a nested distributed query).

Backwards: the previous version of `audit_change()` (rls_2026_12_02t23_00_00_000000).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-03T10:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_change writes operator_action with the entry's tenant"

FORWARDS = """
do $restore$ begin
  -- The side table is there when the previous migration just ran (not when only this one
  -- was undone and runs again). On a new database this app's migrations run before the
  -- admin app's create audit_log (it was the admin's first): no log, no names to restore.
  if to_regclass('public.operator_action_previous') is null then
    return;
  end if;
  if to_regclass('public.audit_log') is not null then
    insert into operator_action (id, tenant_id, operator)
    select p.audit_id, coalesce(a.tenant_id, '00000000-0000-0000-0000-000000000000'),
           p.operator
      from operator_action_previous p left join audit_log a on a.id = p.audit_id;
  end if;
  drop table operator_action_previous;
end $restore$;
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
  -- A row of no tenant (a login) is the platform's: the nil uuid, never NULL, which a
  -- log sharded by tenant_id could not hold.
  entry_tenant uuid := case when tg_argv[1] <> '' then (row_data ->> tg_argv[1])::uuid
                            else '00000000-0000-0000-0000-000000000000' end;
  elsewhere boolean;
begin
  if to_regclass('public.audit_log') is null then
    -- The first migrations of a new database run before the log's table exists.
    return null;
  end if;
  if session_user = {admin_literal} and current_setting('refresh.audit', true) = 'off' then
    -- The write client's own bulk path that writes the log itself (a tenant import
    -- restores the file's entries); trusted on the write client's connections only.
    return null;
  end if;
  if tg_table_name <> tg_argv[0] and to_regproc('pg_catalog.citus_is_coordinator') is not null then
    -- Citus: the trigger fires on a shard. A reference table's row changes on every
    -- node's copy; one entry, the coordinator's, is enough. (Dynamic SQL: the catalog
    -- exists only where Citus is installed.)
    execute 'select not pg_catalog.citus_is_coordinator() and exists ('
            'select from pg_catalog.pg_dist_partition'
            ' where logicalrelid = to_regclass($1) and partmethod = ''n'')'
       into elsewhere using 'public.' || quote_ident(tg_argv[0]);
    if elsewhere then
      return null;
    end if;
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
    entry_tenant, tg_argv[0], row_data ->> 'id', lower(tg_op), changes);
  if operator is not null then
    -- beside its entry, on the entry's tenant's node: a shard's trigger can write there
    insert into public.operator_action (id, tenant_id, operator)
    values (entry, entry_tenant, left(operator, 255));
  end if;
  return null;
end
$$;
"""

BACKWARDS = """
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
  elsewhere boolean;
begin
  if to_regclass('public.audit_log') is null then
    -- The first migrations of a new database run before the log's table exists.
    return null;
  end if;
  if tg_table_name <> tg_argv[0] and to_regproc('pg_catalog.citus_is_coordinator') is not null then
    -- Citus: the trigger fires on a shard. A reference table's row changes on every
    -- node's copy; one entry, the coordinator's, is enough. (Dynamic SQL: the catalog
    -- exists only where Citus is installed.)
    execute 'select not pg_catalog.citus_is_coordinator() and exists ('
            'select from pg_catalog.pg_dist_partition'
            ' where logicalrelid = to_regclass($1) and partmethod = ''n'')'
       into elsewhere using 'public.' || quote_ident(tg_argv[0]);
    if elsewhere then
      return null;
    end if;
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
    -- A row of no tenant (a login) is the platform's: the nil uuid, never NULL, which a
    -- log sharded by tenant_id could not hold.
    case when tg_argv[1] <> '' then (row_data ->> tg_argv[1])::uuid
         else '00000000-0000-0000-0000-000000000000' end,
    tg_argv[0], row_data ->> 'id', lower(tg_op), changes);
  if operator is not null then
    insert into public.operator_action (audit_id, operator) values (entry, left(operator, 255));
  end if;
  return null;
end
$$;
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
