"""The live database's audit triggers, composite tenant keys and their (tenant_id, id)
targets, in the shapes of refresh/schema/state.py, so they compare with declarations."""

from __future__ import annotations

from dataclasses import dataclass, field

from refresh.db.clients import write_client
from refresh.schema.sharding_sql import unset_trigger
from refresh.schema.state import AUDIT_TRIGGER, AuditState, TenantKeyState
from refresh.tenancy.declarations import TENANT_COLUMN

AUDIT_TRIGGERS_SQL = """
select c.relname as table, t.tgargs as arguments
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and not t.tgisinternal and t.tgname = $1
"""
# Foreign keys of two columns whose first is tenant_id, referencing (tenant_id, id).
TENANT_KEYS_SQL = """
select c.relname as table, con.conname as name, a.attname as column,
       r.relname as references, con.confdeltype::text as action,
       con.confdelsetcols is not null and cardinality(con.confdelsetcols) > 0 as column_list
  from pg_constraint con
  join pg_class c on c.oid = con.conrelid
  join pg_class r on r.oid = con.confrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[2]
  join pg_attribute t on t.attrelid = con.conrelid and t.attnum = con.conkey[1]
  join pg_attribute rt on rt.attrelid = con.confrelid and rt.attnum = con.confkey[1]
  join pg_attribute ri on ri.attrelid = con.confrelid and ri.attnum = con.confkey[2]
 where n.nspname = 'public' and con.contype = 'f' and cardinality(con.conkey) = 2
   and t.attname = $1 and rt.attname = $1 and ri.attname = 'id'
"""
# Indexes by the names of their first two columns.
INDEXES_SQL = """
select c.relname as table, ic.relname as name,
       array(select a.attname from unnest((i.indkey::int2[])[0:1]) k
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k)::text[] as lead
  from pg_index i join pg_class c on c.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public'
"""
UNIQUE_KEYS_SQL = """
select c.relname as table, con.conname as name, con.contype = 'p' as primary
  from pg_constraint con join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and con.contype in ('u', 'p')
   and (select array_agg(a.attname::text order by a.attname) from unnest(con.conkey) k
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k)
       = array['id', $1]
"""
TRIGGERS_SQL = """
select c.relname as table, t.tgname as name, t.tgenabled in ('D', 'R') as disabled
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and not t.tgisinternal
"""
ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


@dataclass
class LiveKeys:
    audit: dict[str, AuditState] = field(default_factory=dict)  # by table
    tenant_keys: dict[str, dict[str, TenantKeyState]] = field(default_factory=dict)
    unique_keys: dict[str, set[str]] = field(default_factory=dict)  # (tenant_id, id) keys
    tenant_keyed: set[str] = field(default_factory=set)  # primary key (tenant_id, id)
    disabled_triggers: dict[str, list[str]] = field(default_factory=dict)  # by table


def audit_state(arguments: bytes) -> AuditState | None:
    """The trigger's arguments: the table's name, its tenant column, the quiet columns."""
    values = arguments.decode().split("\x00")[:-1]
    if len(values) < 2:
        return None
    return AuditState(values[1], tuple(values[2:]))


async def live_audit() -> dict[str, AuditState]:
    """The tables with the audit trigger, and what it records."""
    audit = {}
    for row in await write_client.fetch(AUDIT_TRIGGERS_SQL, AUDIT_TRIGGER):
        state = audit_state(bytes(row["arguments"]))
        if state is not None:
            audit[row["table"]] = state
    return audit


async def live_keys() -> LiveKeys:
    keys = LiveKeys(audit=await live_audit())
    indexes: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for row in await write_client.fetch(INDEXES_SQL):
        indexes.setdefault((row["table"], tuple(row["lead"])), []).append(row["name"])
    triggers = set()
    for row in await write_client.fetch(TRIGGERS_SQL):
        triggers.add((row["table"], row["name"]))
        if row["disabled"]:
            keys.disabled_triggers.setdefault(row["table"], []).append(row["name"])
    for row in await write_client.fetch(TENANT_KEYS_SQL, TENANT_COLUMN):
        on_delete = ON_DELETE.get(row["action"], row["action"])
        if on_delete == "set null" and not row["column_list"]:
            on_delete = "set null (every column)"  # would null tenant_id too
        elif on_delete == "set null":
            # SET NULL (column): the same on one server, refused by Citus
            on_delete = "set null (column list: not on Citus)"
        elif (
            on_delete == "no action"
            and (row["references"], unset_trigger(row["table"], row["column"])) in triggers
        ):
            on_delete = "set null"  # what refresh/schema/sharding_sql.py makes
        leading = indexes.get((row["table"], (TENANT_COLUMN, row["column"])), [])
        keys.tenant_keys.setdefault(row["table"], {})[row["name"]] = TenantKeyState(
            row["column"], row["references"], on_delete, ",".join(sorted(leading))
        )
    for row in await write_client.fetch(UNIQUE_KEYS_SQL, TENANT_COLUMN):
        keys.unique_keys.setdefault(row["table"], set()).add(row["name"])
        if row["primary"]:
            keys.tenant_keyed.add(row["table"])
    return keys
