"""Hand-written: the audit log keyed by tenant, as a table sharded by tenant_id must be.

The log's table is this app's history (its class is the platform's since
refresh/rls/tables.py): a row of no tenant gets the nil uuid, which the trigger function
writes from now on (migrations/rls/rls_2026_12_02t23_00_00_000000.py); tenant_id is then
NOT NULL, and the primary key (tenant_id, id), with a unique (id) on one server (see
refresh/schema/sharding_sql.py).
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-02T23:00:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log: no NULL tenant, primary key (tenant_id, id)"

FORWARDS = """
update audit_log set tenant_id = '00000000-0000-0000-0000-000000000000' where tenant_id is null;
alter table audit_log alter column tenant_id set not null;
alter table audit_log drop constraint audit_log_pkey;
alter table audit_log add constraint audit_log_pkey primary key (tenant_id, id);
alter table audit_log add constraint audit_log_id_key unique (id);
"""

BACKWARDS = """
alter table audit_log drop constraint if exists audit_log_id_key;
drop index if exists audit_log_id_idx;
alter table audit_log drop constraint audit_log_pkey;
alter table audit_log add constraint audit_log_pkey primary key (id);
alter table audit_log alter column tenant_id drop not null;
update audit_log set tenant_id = null where tenant_id = '00000000-0000-0000-0000-000000000000';
"""


async def forwards():
    return sql_migration(ID, "admin", DESCRIPTION, FORWARDS, BACKWARDS)
