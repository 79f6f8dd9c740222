"""Hand-written: admin requests get custom plans, API requests keep generic plans.

`auth.begin_request` forced generic plans for every request on one server (a plan per
statement instead of one per execution; the API's queries gain from it). For the admin's
requests (claims `via: admin`, which only the server sets) that misled the planner on a
large tenant: a generic plan estimates a tenant of average size, so a broad title filter
sorted by due date read and sorted all 193,579 matching rows of the 200,000-task tenant
(1.1 s) instead of reading the due-date index backwards until 25 matched (under 1 ms).
The admin's requests now plan every statement for its values (`force_custom_plan`: a
few milliseconds of planning, against a plan that fits a tenant of any size). Same
signature, same single statement; Citus unchanged (no forced plans there). Backwards
restores rls_2026_12_03t07_00_00_000000's version.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-03T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "begin_request: generic plans for API requests, custom plans for the admin's"

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
  -- plan a parameterised join under them (`could not create distributed plan`). Not for
  -- the admin (`via` is set by the server, never by a token): its filters and sorts are
  -- the user's choice, and a generic plan assumes a tenant of average size, so on a
  -- large tenant it sorted every row of a broad filter instead of reading an index in
  -- order (1.1 s against 1 ms; bench/RESULTS.md). Custom plans, forced: left to itself
  -- (`auto`), PostgreSQL may settle on the generic plan after five small tenants'
  -- requests on a pooled connection, and the large tenant would get it next.
  if to_regproc('pg_catalog.citus_version') is null then
    if payload ->> 'via' is distinct from 'admin' then
      set local plan_cache_mode = force_generic_plan;
    else
      set local plan_cache_mode = force_custom_plan;
    end if;
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


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
