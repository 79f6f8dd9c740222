"""Hand-written: `auth.begin_request` checks membership (issue 15, item 9).

A token alone no longer opens a request: its subject must be a current member of its
tenant (`auth.is_member`, defined by the tenants app, which owns membership), with at
least the role the token claims. Same signature, same single statement; on one server
and on Citus alike (the Citus-aware plan setting of rls_2026_12_02t23_00_00_000000 is
kept). Backwards restores that migration's version.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-03T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "begin_request refuses a subject that is not a current member of its tenant"

FORWARDS = """
create or replace function auth.begin_request(
  claims text, role_name text, statement_timeout text default null
)
returns void
language plpgsql
as $$
declare
  payload jsonb;
begin
  if role_name not in ({authenticated_literal}, {anonymous_literal}) then
    raise exception 'begin_request: role % is not a request role', role_name;
  end if;
  execute format('set local role %I', role_name);
  execute format('set local request.jwt.claims = %L', claims);
  -- Membership: a valid token is not enough. Its subject must be a current member of its
  -- tenant with at least the role it claims, so removing or demoting a member takes
  -- effect on the next request. One indexed lookup, in this same statement, as the
  -- request role with the claims just set. The tenants app owns membership and defines
  -- auth.is_member (its migrations); staff (via admin) are checked by the admin gate
  -- against their staff profile instead; `membership = token` is the server's choice
  -- (MEMBERSHIP_CHECK=false) where the identity provider is the authority.
  payload := claims::jsonb;
  if payload ->> 'via' is distinct from 'admin'
     and payload ->> 'membership' is distinct from 'token'
     and to_regprocedure('auth.is_member(uuid,text,text)') is not null then
    -- nested: an expression naming a missing function fails when parsed, whatever AND
    -- would have decided (the first migrations run before auth.is_member exists)
    if not auth.is_member((payload ->> 'tenant_id')::uuid, payload ->> 'sub',
                          payload ->> 'tenant_role') then
      raise exception using errcode = '28000', message = 'not_a_member',
        detail = 'the token''s subject is not a current member of its tenant with this role';
    end if;
  end if;
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
"""

BACKWARDS = """
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
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
