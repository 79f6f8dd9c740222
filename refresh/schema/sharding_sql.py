"""The SQL of the keys a table sharded by tenant needs (DESIGN.md "Scale-out"): the same
on one PostgreSQL server, where it costs nothing, so a database moves to Citus with
`piccolo rls distribute` and no change of schema.

Citus wants the distribution column in every primary and unique key, refuses ON UPDATE
CASCADE on a key to a reference table, and refuses ON DELETE SET NULL (column) on a
composite key; the statements here build the equivalent it accepts.
"""

from __future__ import annotations

from refresh.db.sql import ident, quote_literal
from refresh.schema.state import TenantKeyState
from refresh.tenancy.declarations import TENANT_COLUMN


def unset_trigger(table: str, column: str) -> str:
    """The trigger (and its function) that does ON DELETE SET NULL for a tenant key."""
    return f"{table}_{column.removesuffix('_id')}_unset"


def create_unset_trigger(table: str, key: TenantKeyState) -> list[str]:
    # The key's own SET NULL would null tenant_id too, and SET NULL (column), which would
    # not, is refused by Citus: the key says NO ACTION, and this trigger on the referenced
    # table clears the column first. The tenant_id condition keeps it to one shard. As the
    # owner, like the key's own action: whoever may delete the row needs no right to
    # update the rows that referred to it.
    trigger = ident(unset_trigger(table, key.column))
    return [
        f"create or replace function public.{trigger}() returns trigger language plpgsql\n"
        "security definer set search_path = pg_catalog, public, pg_temp as $$\n"
        f"begin\n  update public.{ident(table)} set {ident(key.column)} = null\n"
        f"   where {TENANT_COLUMN} = old.{TENANT_COLUMN} and {ident(key.column)} = old.id;\n"
        "  return old;\nend $$;",
        f"revoke execute on function public.{trigger}() from public;",
        f"create or replace trigger {trigger} before delete on {ident(key.references)}\n"
        f"  for each row execute function public.{trigger}();",
    ]


def drop_unset_trigger(table: str, key: TenantKeyState) -> list[str]:
    trigger = ident(unset_trigger(table, key.column))
    return [
        f"drop trigger if exists {trigger} on {ident(key.references)};",
        f"drop function if exists public.{trigger}();",
    ]


def rekey_sql(table: str, keyed: bool, kind: str) -> list[str]:
    """Primary key (tenant_id, id) (`keyed`), or back to the primary key (id) and the
    unique (tenant_id, id) that tenant keys reference.

    A keyed table keeps a unique (id) on one server: the early migrations of the apps
    after it, replayed on a new database, make plain keys to it (later replaced by tenant
    keys). `piccolo rls distribute` trades it for a plain index, as Citus wants every
    unique key to hold the distribution column (`distribute_sql`).
    The keys of other tables (other apps') that reference this one depend on its unique
    index, so they are set aside and made again on the new one, in one statement.
    For a tenant table, the key to the tenant loses (or gets back) ON UPDATE CASCADE.
    """
    t, regclass = ident(table), f"'public.{ident(table)}'::regclass"
    pkey, unique = ident(table + "_pkey"), ident(table + "_tenant_id_id_key")
    fkey, id_key = ident(table + "_tenant_id_fkey"), ident(table + "_id_key")
    if keyed:
        swap = [
            f"alter table {t} drop constraint {pkey};",
            f"alter table {t} drop constraint if exists {unique};",
            f"alter table {t} add constraint {pkey} primary key ({TENANT_COLUMN}, id);",
            f"alter table {t} add constraint {id_key} unique (id);",
        ]
    else:
        swap = [
            f"alter table {t} drop constraint if exists {id_key};",
            f"drop index if exists {ident(table + '_id_idx')};",
            f"alter table {t} drop constraint {pkey};",
            f"alter table {t} add constraint {pkey} primary key (id);",
        ]
        if kind == "tenant":
            swap.append(f"alter table {t} add constraint {unique} unique ({TENANT_COLUMN}, id);")
    if kind == "tenant":
        cascade = "" if keyed else " on update cascade"
        swap += [
            f"alter table {t} drop constraint if exists {fkey};",
            f"alter table {t} add constraint {fkey} foreign key ({TENANT_COLUMN})"
            f" references tenant (id) on delete cascade{cascade};",
        ]
    body = "\n".join(f"  {statement}" for statement in swap)
    return [
        "do $rekey$\ndeclare\n  referencing record;\n  again text[] := '{}';\n  statement text;\n"
        "begin\n"
        "  for referencing in select conrelid::regclass as tab, conname,\n"
        "                            pg_get_constraintdef(oid) as definition\n"
        "                       from pg_constraint\n"
        f"                      where contype = 'f' and confrelid = {regclass}\n"
        f"                        and conrelid <> {regclass} loop\n"
        "    again := again || format('alter table %s add constraint %I %s',\n"
        "                             referencing.tab, referencing.conname,"
        " referencing.definition);\n"
        "    execute format('alter table %s drop constraint %I', referencing.tab,"
        " referencing.conname);\n"
        "  end loop;\n"
        f"{body}\n"
        "  foreach statement in array again loop\n    execute statement;\n  end loop;\n"
        "end $rekey$;"
    ]


def id_unique_to_index_sql(table: str) -> list[str]:
    """The unique (id) that one server keeps becomes a plain index before a table is
    sharded: Citus wants the distribution column in every unique key."""
    t = ident(table)
    return [
        f"alter table {t} drop constraint if exists {ident(table + '_id_key')};",
        f"create index if not exists {ident(table + '_id_idx')} on {t} (id);",
    ]


def place_new_tables_sql(new: dict[str, str | None]) -> list[str]:
    """New tables (name -> declared distribution) placed before their keys are made, on a
    Citus cluster whose tables are distributed already: a key from a table of the
    coordinator to a sharded one is refused. Reference tables first: a new sharded table
    may have a key to one. Nothing on one server, and nothing on a new database, whose
    tables the placement migration distributes after every app's migrations
    (refresh/schema/placement.py); it then finds these in place."""
    place = [
        f"perform create_reference_table({quote_literal(f'public.{ident(t)}')});"
        for t in sorted(new)
        if new[t] == "reference"
    ]
    for table in sorted(t for t in new if new[t] == "by_tenant"):
        place += [f"execute {dollar(s.rstrip(';'))};" for s in id_unique_to_index_sql(table)]
        place.append(
            "execute format('select create_distributed_table(%L, %L, colocate_with => %L)',"
            f" {quote_literal(f'public.{ident(table)}')}, {quote_literal(TENANT_COLUMN)}, anchor);"
        )
    if not place:
        return []
    body = "\n".join(f"  {line}" for line in place)
    return [
        "do $place$\ndeclare\n  anchor text;\nbegin\n"
        "  if to_regclass('pg_catalog.pg_dist_partition') is null then\n    return;\n  end if;\n"
        "  select logicalrelid::regclass::text into anchor from pg_catalog.pg_dist_partition\n"
        "   where partmethod = 'h' order by 1 limit 1;\n"
        "  if anchor is null then\n    return;\n  end if;\n"
        "  perform set_config('citus.enable_unsafe_triggers', 'on', true);\n"
        f"{body}\nend $place$;"
    ]


def dollar(statement: str) -> str:
    return "$stmt$" + statement + "$stmt$"
