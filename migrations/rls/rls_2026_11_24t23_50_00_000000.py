"""Hand-written: request roles create no temporary tables.

A temporary table outlives the request on a pooled connection (neither the transaction's
end nor the pool's reset drops it), and temporary objects are found before the real ones:
a table created under one tenant's claims would shadow a real table in the next tenant's
queries on that connection. PostgreSQL grants TEMPORARY on every database to PUBLIC.

Where the admin role does not own the database the REVOKE is a no-op with a warning;
`piccolo rls check` reports it (request_role_temp_tables) until the owner runs it.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-11-24T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "request roles create no temporary tables"

FORWARDS = """
do $temp$ begin
  execute format('revoke temporary on database %I from public', current_database());
end $temp$;
"""

BACKWARDS = """
do $temp$ begin
  execute format('grant temporary on database %I to public', current_database());
end $temp$;
"""


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
