"""Hand-written: the admin's requests may run in parallel workers, the API's stay serial.

Every policy calls auth.tenant_id() or auth.tenant_role(), and a function created without
a PARALLEL clause is PARALLEL UNSAFE: PostgreSQL checks that on the query as written,
before it inlines these one-line SQL functions, so no query on a tenant table ever got a
parallel plan, and the admin's exact count of a large tenant's rows was one process
reading the whole index (bench/RESULTS.md, "The admin on a 2,000,000-task tenant"). The
claim readers only read the transaction's settings (current_setting), which PostgreSQL
hands to its parallel workers with the role, so a worker filters by the same claims as
its leader (tests/refresh/db/test_parallel_plans.py counts each tenant's rows through
workers). auth.begin_request keeps API requests serial on one server (why: beside the
setting below); Citus unchanged. Backwards restores rls_2026_12_03t18_00_00_000000's
begin_request and the functions' default, PARALLEL UNSAFE.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-05T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "parallel plans for the admin's requests, serial ones for the API's"

FUNCTIONS = "auth.jwt()", "auth.tenant_id()", "auth.user_id()", "auth.tenant_role()"

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

# The one change to begin_request: API requests also plan serially.
GENERIC_FOR_THE_API = """
      set local plan_cache_mode = force_generic_plan;
"""
SERIAL_FOR_THE_API = """
      -- Serial: an API request is one of many short ones, and the planner's parallel
      -- costs ignore the others; on a large tenant a search's page of 50 went from 4 to
      -- 16 ms through parallel workers (bench/RESULTS.md). The admin's few requests over
      -- a large tenant's every row (its exact counts) are what workers are for.
      set local max_parallel_workers_per_gather = 0;
"""
assert BEGIN_REQUEST_BEFORE.count(GENERIC_FOR_THE_API) == 1
BEGIN_REQUEST = BEGIN_REQUEST_BEFORE.replace(
    GENERIC_FOR_THE_API, GENERIC_FOR_THE_API + SERIAL_FOR_THE_API.lstrip("\n")
)

FORWARDS = "\n".join(f"alter function {f} parallel safe;" for f in FUNCTIONS) + BEGIN_REQUEST
BACKWARDS = BEGIN_REQUEST_BEFORE + "\n".join(
    f"alter function {f} parallel unsafe;" for f in FUNCTIONS
)


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
