"""Roles, the `auth` schema and the request entry point (DESIGN.md "Database roles").

Idempotent: roles are cluster-wide, so a second database on the same server (or a
re-run) finds them in place. Backwards drops the `auth` schema but keeps the roles,
which other databases of the server may be using.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-11-24T19:42:09:204675"
VERSION = "1.38.0"
DESCRIPTION = "roles, auth schema, auth.begin_request, updated_at trigger function"

FORWARDS = """
do $roles$
begin
  if not exists (select from pg_roles where rolname = {authenticated_literal}) then
    create role {authenticated} nologin;
  end if;
  if not exists (select from pg_roles where rolname = {anonymous_literal}) then
    create role {anonymous} nologin;
  end if;
  if not exists (select from pg_roles where rolname = {authenticator_literal}) then
    create role {authenticator} login noinherit nosuperuser nobypassrls nocreatedb nocreaterole;
  end if;
  -- GRANT only where missing: on PostgreSQL 16+ a CREATEROLE admin may lack ADMIN OPTION
  -- on roles another admin created, and a no-op grant would still fail.
  if not pg_has_role({authenticator_literal}, {authenticated_literal}, 'member') then
    grant {authenticated} to {authenticator};
  end if;
  if not pg_has_role({authenticator_literal}, {anonymous_literal}, 'member') then
    grant {anonymous} to {authenticator};
  end if;
end
$roles$;

create schema if not exists auth;

-- The verified JWT claims of the current request; NULL outside a request transaction.
create or replace function auth.jwt() returns jsonb
language sql stable
as $$ select nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;

create or replace function auth.tenant_id() returns uuid
language sql stable
as $$ select (auth.jwt() ->> 'tenant_id')::uuid $$;

create or replace function auth.user_id() returns text
language sql stable
as $$ select auth.jwt() ->> 'sub' $$;

create or replace function auth.tenant_role() returns text
language sql stable
as $$ select auth.jwt() ->> 'tenant_role' $$;

-- The one statement of a request that sets role and claims, transaction-local.
-- SET LOCAL through EXECUTE, not set_config(): Citus forwards SET LOCAL to its workers.
-- Not SECURITY DEFINER: SET ROLE is checked against the caller, the authenticator.
-- statement_timeout (optional, e.g. '5s') bounds every statement of the request.
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

-- Keeps updated_at current on every UPDATE, whatever path the write takes.
create or replace function public.set_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

revoke all on schema auth from public;
revoke all on all functions in schema auth from public;
revoke all on function public.set_updated_at() from public;
grant usage on schema auth to {authenticator}, {authenticated}, {anonymous};
grant execute on function auth.jwt(), auth.tenant_id(), auth.user_id(), auth.tenant_role()
  to {authenticated}, {anonymous};
grant execute on function auth.begin_request(text, text, text) to {authenticator};
grant usage on schema public to {authenticated}, {anonymous};
"""

BACKWARDS = """
drop function if exists public.set_updated_at();
drop schema if exists auth cascade;
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
