"""Hand-written: auth.tenant_id() reads a setting of its own instead of parsing the claims.

Every tenant table's policies compare `tenant_id` with auth.tenant_id(), and PostgreSQL
evaluates it wherever the policy is a filter rather than an index condition: once per
row of a joined table, once per row a search reads. It cast the claims text to jsonb
each time (about 1.3 us more than a constant, against 0.27 us for a text setting cast to
uuid; bench/RESULTS.md). auth.begin_request now also sets `request.tenant_id`, from the
same claims, in the same statement, transaction-local like them (SET LOCAL through
EXECUTE, which Citus forwards to its workers); auth.tenant_id() reads it. The other
claim readers (auth.jwt(), auth.user_id(), auth.tenant_role()) are unchanged. Backwards
restores rls_2026_12_05t12_00_00_000000's begin_request and auth.tenant_id().
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-05T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth.tenant_id() reads request.tenant_id, set by begin_request"

TENANT_ID_BEFORE = """
create or replace function auth.tenant_id() returns uuid
language sql stable parallel safe
as $$ select (auth.jwt() ->> 'tenant_id')::uuid $$;
"""

TENANT_ID = """
create or replace function auth.tenant_id() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('request.tenant_id', true), '')::uuid $$;
"""

BEGIN_REQUEST_BEFORE = """
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
      -- Serial: an API request is one of many short ones, and the planner's parallel
      -- costs ignore the others; on a large tenant a search's page of 50 went from 4 to
      -- 16 ms through parallel workers (bench/RESULTS.md). The admin's few requests over
      -- a large tenant's every row (its exact counts) are what workers are for.
      set local max_parallel_workers_per_gather = 0;
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

# The one change to begin_request: the claims are read into `payload` right after they are
# set, and the tenant is set from them beside the claims.
CLAIMS_SET = """
  execute format('set local request.jwt.claims = %L', claims);
"""
TENANT_SET = """  payload := claims::jsonb;
  -- The tenant once more, on its own, for auth.tenant_id(): every policy calls it, often
  -- once per row it filters, and reading a text setting costs a fifth of parsing the
  -- claims each time (bench/RESULTS.md). Set from the same claims in the same statement.
  execute format('set local request.tenant_id = %L', coalesce(payload ->> 'tenant_id', ''));
"""
PAYLOAD_LATER = """
  payload := claims::jsonb;
  if payload ->> 'via'"""
assert BEGIN_REQUEST_BEFORE.count(CLAIMS_SET) == 1
assert BEGIN_REQUEST_BEFORE.count(PAYLOAD_LATER) == 1
BEGIN_REQUEST = BEGIN_REQUEST_BEFORE.replace(
    PAYLOAD_LATER, "\n  if payload ->> 'via'"
).replace(CLAIMS_SET, CLAIMS_SET + TENANT_SET)

FORWARDS = BEGIN_REQUEST + TENANT_ID
BACKWARDS = BEGIN_REQUEST_BEFORE + TENANT_ID_BEFORE


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
