"""Hand-written: `auth.is_member`, the membership check `auth.begin_request` runs on every
request (migrations/rls/rls_2026_12_03t07_00_00_000000.py).

True when `subject` is a member of `tenant` and, if the token claims `admin`, an admin
there. Runs as the request role under the member table's policies, with the request's
claims already set; one lookup on the unique index (tenant_id, user_id).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-03T07:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth.is_member: the membership check of auth.begin_request"

FORWARDS = """
create or replace function auth.is_member(tenant uuid, subject text, claimed_role text)
returns boolean
language sql
stable
as $$
  select exists (
    select from public.member
     where tenant_id = tenant
       and user_id = subject
       and (role = 'admin' or claimed_role is distinct from 'admin')
  )
$$;
"""

BACKWARDS = """
drop function if exists auth.is_member(uuid, text, text);
"""


async def forwards():
    return sql_migration(ID, "tenants", DESCRIPTION, FORWARDS, BACKWARDS)
