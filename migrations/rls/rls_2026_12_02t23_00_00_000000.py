"""Hand-written: what a Citus cluster needs of the roles and functions (DESIGN.md
"Scale-out"), harmless on one server.

- `auth.begin_request` keeps generic plans on one server only: Citus cannot plan a
  parameterised join under `plan_cache_mode = force_generic_plan`.
- `audit_change()` writes the nil uuid for a row of no tenant (a login), never NULL, so
  the log can be sharded by tenant_id; and on Citus, a change to a reference table (whose
  trigger fires on every node's copy) is recorded once, by the coordinator.
- On Citus: `SET LOCAL` reaches the workers only with `citus.propagate_set_commands =
  'local'` for the roles that open transactions (the authenticator, the admin role), and
  Citus connects to the workers as the request's role, so `authenticated` logs in (the
  cluster's pg_hba admits it from the cluster's nodes only: docs/database-guide.md).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-02T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Citus: generic plans on one server only, audit without NULL tenant, role settings"

FORWARDS = """
create or replace function auth.begin_request(
  claims text, role_name text, statement_timeout text default null
)
returns void
language plpgsql
as $$
begin
  if role_name not in ({authenticated_literal}, {anonymous_literal}) then
    raise exception 'begin_request: role % is not a request role', role_name;
  end if;
  execute format('set local role %I', role_name);
  execute format('set local request.jwt.claims = %L', claims);
  -- Generic plans saved re-planning on one server (bench/RESULTS.md); Citus cannot
  -- plan a parameterised join under them (`could not create distributed plan`).
  if to_regproc('pg_catalog.citus_version') is null then
    set local plan_cache_mode = force_generic_plan;
  end if;
  if statement_timeout is not null then
    execute format('set local statement_timeout = %L', statement_timeout);
    -- a handler stuck between statements must not keep the connection either
    execute format('set local idle_in_transaction_session_timeout = %L', statement_timeout);
  end if;
end
$$;

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

do $citus$ begin
  if exists (select from pg_extension where extname = 'citus') then
    execute format('alter role %I set citus.propagate_set_commands = %L',
                   {authenticator_literal}, 'local');
    execute format('alter role %I set citus.propagate_set_commands = %L',
                   {admin_literal}, 'local');
    execute format('alter role %I login', {authenticated_literal});
  end if;
end $citus$;
"""

BACKWARDS = """
do $citus$ begin
  if exists (select from pg_extension where extname = 'citus') then
    execute format('alter role %I nologin', {authenticated_literal});
    execute format('alter role %I reset citus.propagate_set_commands', {admin_literal});
    execute format('alter role %I reset citus.propagate_set_commands',
                   {authenticator_literal});
  end if;
end $citus$;
create or replace function auth.begin_request(
  claims text, role_name text, statement_timeout text default null
)
returns void
language plpgsql
as $$
begin
  if role_name not in ({authenticated_literal}, {anonymous_literal}) then
    raise exception 'begin_request: role % is not a request role', role_name;
  end if;
  execute format('set local role %I', role_name);
  execute format('set local request.jwt.claims = %L', claims);
  -- Under RLS the tenant is never a parameter, so custom plans buy little, and the plan
  -- cache kept re-planning each call (bench/RESULTS.md: the filtered list 1.76x an
  -- explicit filter, 0.96x with generic plans; text search 1.30x -> 1.01x).
  set local plan_cache_mode = force_generic_plan;
  if statement_timeout is not null then
    execute format('set local statement_timeout = %L', statement_timeout);
    -- a handler stuck between statements must not keep the connection either
    execute format('set local idle_in_transaction_session_timeout = %L', statement_timeout);
  end if;
end
$$;
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
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
