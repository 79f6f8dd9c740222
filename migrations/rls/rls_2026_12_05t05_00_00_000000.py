"""Hand-written: auth.large_tenants, the tenants a table's statistics single out.

A generic plan (what `auth.begin_request` forces for API requests on one server) is made
for a tenant of average size. That is right for most tenants and wrong for the few far
above the average, whose broad filters it sorted instead of reading an index in order;
so the API plans a filtered list for its values, and every small tenant paid for that
planning (bench/NOTES.md, "Generic plans beside the tenant constant"). The planner's own
statistics name the tenants it would misjudge: the most common values of the table's
tenant_id whose share is many times the average. The app reads them now and then
(refresh/db/tenant_sizes.py) and plans for its values only for them.

SECURITY DEFINER, as its owner (the admin role, which bypasses RLS): pg_stats hides a
table with RLS from the request roles. Only the authenticator may run it, outside
requests (`piccolo rls check` refuses a SECURITY DEFINER function the request roles may
run); it names tenants and their relative size, nothing of their rows. On Citus the
coordinator keeps no statistics of a distributed table's rows: no tenant is named.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-05T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth.large_tenants: the tenants the statistics single out, for planning"

FORWARDS = """
create or replace function auth.large_tenants(table_name text, times_average real)
returns setof uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select m.tenant
    from pg_stats s
    join pg_class c on c.oid = to_regclass(format('public.%I', table_name))
    cross join lateral unnest(s.most_common_vals::text::uuid[], s.most_common_freqs)
      as m(tenant, share)
   where s.schemaname = 'public' and s.tablename = table_name and s.attname = 'tenant_id'
     -- n_distinct below zero is a fraction of the rows
     and m.share * (case when s.n_distinct < 0 then -s.n_distinct * c.reltuples
                         else s.n_distinct end) >= times_average
$$;
revoke all on function auth.large_tenants(text, real) from public;
grant execute on function auth.large_tenants(text, real) to {authenticator};
"""

BACKWARDS = """
drop function if exists auth.large_tenants(text, real);
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
