"""A hand-written migration: an index Piccolo cannot declare (several columns).

The project list reads one tenant's projects newest first (keyset on created_at, id);
this index, scanned backwards, serves exactly that access path, and it leads with
tenant_id like every index of a tenant table.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-11-24T19:42:43:677189"
VERSION = "1.38.0"
DESCRIPTION = "index for the project list: (tenant_id, created_at, id)"

FORWARDS = """
create index project_tenant_created_idx on project (tenant_id, created_at, id);
"""

BACKWARDS = """
drop index if exists project_tenant_created_idx;
"""


async def forwards():
    return sql_migration(ID, "projects", DESCRIPTION, FORWARDS, BACKWARDS)
