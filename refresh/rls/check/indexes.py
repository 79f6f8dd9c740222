"""Checks of indexes and keys on the live database: every foreign key and every tenant
table's tenant_id served by an index, no key or unique constraint of a tenant table
without tenant_id."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.rls.check.problems import Problem, sql

FK_WITHOUT_INDEX = """
select c.relname as table, con.conname as name,
       array(select a.attname from unnest(con.conkey) k join pg_attribute a
             on a.attrelid = con.conrelid and a.attnum = k order by a.attnum)::text[] as columns
  from pg_constraint con join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where con.contype = 'f' and n.nspname = 'public'
   and not exists (
     select from pg_index i
      where i.indrelid = con.conrelid
        and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
        and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)
"""
LEADING_INDEX = """
select exists (
  select from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
   where i.indrelid = to_regclass('public.' || quote_ident($1)) and a.attname = $2)
"""
UNIQUE_WITHOUT_TENANT = """
select c.relname as table, ic.relname as name, con.conname as constraint_name,
       array(select a.attname from unnest(i.indkey::int2[]) k join pg_attribute a
             on a.attrelid = i.indrelid and a.attnum = k)::text[] as columns
  from pg_index i join pg_class c on c.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_constraint con on con.conindid = i.indexrelid and con.contype = 'u'
 where n.nspname = 'public' and i.indisunique and not i.indisprimary
   and c.relname = any($1::text[])
   and not exists (select from pg_attribute a where a.attrelid = c.oid
                    and a.attname = 'tenant_id' and a.attnum = any(i.indkey::int2[]))
"""
FK_WITHOUT_TENANT = """
select c.relname as table, con.conname as name
  from pg_constraint con join pg_class c on c.oid = con.conrelid
 where con.contype = 'f' and c.relname = any($1::text[])
   and c.relnamespace = 'public'::regnamespace
   and not exists (select from pg_attribute a where a.attrelid = con.conrelid
                    and a.attname = 'tenant_id' and a.attnum = any(con.conkey))
   -- only keys to tenant rows: a key to a global table (a price list) is shared anyway
   and exists (select from pg_attribute a where a.attrelid = con.confrelid
                and a.attname = 'tenant_id' and not a.attisdropped)
"""


def index_name(table: str, columns: list[str]) -> str:
    return f"{table}_{'_'.join(columns)}_idx"[:63]


def create_index(table: str, columns: list[str]) -> str:
    listed = ", ".join(ident(c) for c in columns)
    return f"create index {ident(index_name(table, columns))} on {ident(table)} ({listed});"


async def index_problems(tenant_tables: list[str], tenant_keys: set[str]) -> list[Problem]:
    """`tenant_keys`: the names of declared composite keys, whose indexes
    tenant_key_index_missing checks already."""
    problems = []
    for row in await write_client.fetch(FK_WITHOUT_INDEX):
        if row["name"] in tenant_keys:
            continue
        table, columns = row["table"], list(row["columns"])
        problems.append(
            Problem(
                "fk_without_index",
                table,
                f"foreign key {row['name']} ({', '.join(columns)}) has no index leading "
                "with its columns: joins and ON DELETE checks scan the table",
                sql(create_index(table, columns)),
            )
        )
    for table in tenant_tables:
        if not (await write_client.fetch(LEADING_INDEX, table, "tenant_id"))[0]["exists"]:
            problems.append(
                Problem(
                    "tenant_id_without_index",
                    table,
                    "no index leads with tenant_id: every policy check scans the table",
                    sql(create_index(table, ["tenant_id"])),
                )
            )
    for row in await write_client.fetch(FK_WITHOUT_TENANT, tenant_tables):
        problems.append(
            Problem(
                "fk_without_tenant_id",
                row["table"],
                f"foreign key {row['name']} does not include tenant_id: its check ignores "
                "RLS, so a row could point at another tenant's row, and the check's lock "
                "reveals that the row exists (Citus also refuses such keys); the table's "
                "TenantForeignKey columns have composite keys of their own",
                sql(f"alter table {ident(row['table'])} drop constraint {ident(row['name'])};"),
            )
        )
    for row in await write_client.fetch(UNIQUE_WITHOUT_TENANT, tenant_tables):
        table, name = row["table"], row["name"]
        if list(row["columns"]) == ["id"]:
            # The row's identity, unique as the primary key (id) was, now (tenant_id, id):
            # a uuid the server makes. `piccolo rls distribute` replaces it on Citus.
            continue
        keyed = ", ".join(ident(c) for c in ["tenant_id", *row["columns"]])
        if row["constraint_name"]:
            drop = f"alter table {ident(table)} drop constraint {ident(row['constraint_name'])};"
        else:
            drop = f"drop index {ident(name)};"
        problems.append(
            Problem(
                "unique_without_tenant_id",
                table,
                f"unique index {name} does not include tenant_id: one tenant's value "
                "blocks another's, and the error reveals that the value exists elsewhere "
                "(in the table class: Unique(['tenant_id', ...]))",
                sql(f"{drop} create unique index {ident(name)} on {ident(table)} ({keyed});"),
            )
        )
    return problems
