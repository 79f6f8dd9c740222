"""Hand-written: on Citus, the admin role's sessions accept triggers on distributed tables.

Citus refuses CREATE TRIGGER and ALTER TABLE ... ENABLE/DISABLE TRIGGER on a distributed
table unless `citus.enable_unsafe_triggers` is on. The project's triggers (audit,
updated_at, the SET NULL of tenant keys) each touch only rows of their own row's tenant,
so of one colocated shard group: the placement sets it for its own transaction
(refresh/schema/distribution.py), but an RLS migration adding such a trigger to a table
sharded already, or a fix `piccolo rls check` prints (`audit_trigger_missing`,
`trigger_disabled`), ran without it and failed. Set for the admin role, which owns the
tables and runs both. Nothing on one server.
"""

from refresh.schema.migration_sql import sql_migration

ID = "2026-12-04T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Citus: the admin role may create and switch the tables' triggers"

ON_CITUS = """
do $citus$ begin
  if exists (select from pg_extension where extname = 'citus') then
    execute format('alter role %I {change}', {{admin_literal}});
  end if;
end $citus$;
"""
FORWARDS = ON_CITUS.format(change="set citus.enable_unsafe_triggers = on")
BACKWARDS = ON_CITUS.format(change="reset citus.enable_unsafe_triggers")


async def forwards():
    return sql_migration(ID, "rls", DESCRIPTION, FORWARDS, BACKWARDS)
