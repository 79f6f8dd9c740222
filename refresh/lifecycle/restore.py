"""`piccolo tenants import`: an export restored, into the same database or another one at
the same migration state (moving a tenant between databases is an export here and an
import there).

All or nothing, in one transaction on the write client: the rows go in with their ids,
parents first, in batches (bounded memory: refresh/lifecycle/inserting.py); the database
checks every key as usual. The file is checked as it is read (structure, every table's
checksum, every row of the tenant the manifest names) and the rows inserted are read back
and hashed again before the commit, so the tenant in the database is the file's, row by
row. The audit entries the triggers write while the rows go in are replaced by the
exported history and one entry recording the import.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import IO, Any

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.lifecycle.audit import Actor, record, remove_entries, system_actor
from refresh.lifecycle.erase import erase_in, whole_transaction
from refresh.lifecycle.export import PREFETCH, UnknownTenant, begin_snapshot, rows_sql
from refresh.lifecycle.fileformat import Manifest, Reader, TableEntry, open_for_reading
from refresh.lifecycle.inserting import insert_rows
from refresh.lifecycle.migrations import differences, migration_state
from refresh.lifecycle.progress import Progress
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.sections import tables_of, tenant_row, with_slug
from refresh.lifecycle.tables import AUDIT_LOG, TenantRows
from refresh.tenancy.naming import NO_TENANT
from refresh.tenancy.tables import tenant_root_table


async def import_tenant(
    path: Path,
    *,
    slug: str | None = None,
    replace: bool = False,
    replacing: str | None = None,
    actor: Actor | None = None,
    stream: IO[str] | None = None,
) -> Manifest:
    """`replace`: erase the tenant of the file's id first, if it exists; `replacing`: only
    if that tenant's slug is this one (what the admin's operator typed to confirm)."""
    with open_for_reading(Path(path)) as file:
        reader = Reader(file)
        manifest = reader.manifest
        tables = tables_of(manifest)
        if uuid.UUID(manifest.tenant_id) == NO_TENANT:
            # before any query: that tenant would own the platform's audit entries
            raise ImportRefused(
                f"the file's tenant id {NO_TENANT} is the platform's id of no tenant, which "
                "no tenant may have (the file was edited)"
            )
        tenant = tenant_row(reader, tables[0])
        async with write_client.connection() as connection:
            # In an operator's request its transaction's rollback on any refusal keeps
            # the import all or nothing; the settings below then last until it ends
            # (the admin's import page writes nothing after).
            async with whole_transaction(connection):
                await begin_snapshot(connection)
                await prepare_bulk_import(connection)
                await _check_migrations(connection, manifest)
                who = actor or await system_actor(connection)
                tenant_id = uuid.UUID(manifest.tenant_id)
                target = slug or manifest.slug
                replaced = await _make_room(
                    connection, tenant_id, target, replace, replacing, who, stream
                )
                # Entries about this tenant that stay: erasures recorded before.
                keep = [
                    r["id"]
                    for r in await connection.fetch(
                        f"select id from {ident(AUDIT_LOG)} where tenant_id = $1", tenant_id
                    )
                ]
                progress = Progress("import", sum(e.rows for e in manifest.tables), stream)
                for table, entry in tables:
                    if table.is_audit_log:
                        await remove_entries(connection, tenant_id, keep)
                    rows = tenant if table.key == "id" else reader.rows(entry)
                    if table.key == "id" and slug:
                        rows = (with_slug(line, slug) for line in rows)
                    await insert_rows(connection, table, entry, rows, tenant_id, progress)
                    if not table.is_audit_log:
                        # Statistics that know the rows just inserted: the foreign key
                        # checks of the next tables are planned from them (without, the
                        # 2,000 comments of a 100,000-task tenant took 136 s, scanning).
                        await connection.execute(f"analyze {ident(table.name)}")
                reader.finish()
                for table, entry in tables:
                    await _verify(connection, table, entry, tenant_id, keep, slug, manifest.slug)
                rows_by_table = {e.name: e.rows for e in manifest.tables}
                await record(
                    connection,
                    who,
                    tenant_id,
                    "import",
                    {
                        "slug": target,
                        "exported_slug": manifest.slug,
                        "exported_at": manifest.exported_at,
                        "replaced": replaced,
                        "rows": rows_by_table,
                    },
                )
    return manifest


async def _check_migrations(connection: Any, manifest: Manifest) -> None:
    lines = differences(manifest.migrations, await migration_state(connection))
    if lines:
        raise ImportRefused(
            "the file was exported at another migration state than this database's:\n  "
            + "\n  ".join(lines)
        )


async def _make_room(
    connection: Any,
    tenant_id: uuid.UUID,
    slug: str,
    replace: bool,
    replacing: str | None,
    actor: Actor,
    stream: IO[str] | None,
) -> bool:
    """Refuse an existing tenant unless `replace` (and, if given, `replacing` is its slug:
    a confirmation names the tenant erased, not the slug imported); then erase it first.
    True if replaced."""
    rows = await connection.fetch(
        f"select id, slug from {ident(tenant_root_table()._meta.tablename)}"
        " where id = $1 or slug = $2",
        tenant_id,
        slug,
    )
    if not rows:
        return False
    for row in rows:
        if row["id"] != tenant_id:
            raise ImportRefused(
                f"the slug {slug!r} belongs to another tenant here ({row['id']})", "slug"
            )
    existing = rows[0]["slug"]
    if not replace or (replacing is not None and replacing != existing):
        raise ImportRefused(
            f"the tenant {existing!r} ({tenant_id}) exists in this database", "replace", existing
        )
    try:
        await erase_in(connection, tenant_id, existing, actor, stream)
    except UnknownTenant:  # an erase took it away while this waited for its row
        raise ImportRefused(
            f"the tenant {existing!r} ({tenant_id}) was erased while this import waited to "
            "replace it: import the file again"
        ) from None
    return True


async def _verify(
    connection: Any,
    table: TenantRows,
    entry: TableEntry,
    tenant_id: uuid.UUID,
    keep: list[uuid.UUID],
    slug: str | None,
    exported_slug: str,
) -> None:
    """The rows now in the database, rendered and hashed as the export did: equal to the
    file's, or the import is refused (e.g. a trigger or default changed a value)."""
    sql = rows_sql(table)
    args: list[Any] = [tenant_id]
    if table.is_audit_log:
        sql = sql.replace(" order by", " and not (t.id = any($2)) order by")
        args.append(keep)
    digest = hashlib.sha256()
    rows = 0
    async for found in connection.cursor(sql, *args, prefetch=PREFETCH):
        text = found[0]
        if table.key == "id" and slug:  # the row with the file's slug put back
            text = await connection.fetchval(
                "select ($1::jsonb || jsonb_build_object('slug', $2::text))::text",
                text,
                exported_slug,
            )
        digest.update(text.encode() + b"\n")
        rows += 1
    if rows != entry.rows or digest.hexdigest() != entry.sha256:
        raise ImportRefused(
            f"table {table.name}: the rows in the database differ from the file's after "
            "inserting them; nothing was imported"
        )


async def prepare_bulk_import(connection: Any) -> None:
    """The transaction's settings for an import:
    - no audit trigger entries (`refresh.audit`, trusted from the write client only): the
      import restores the file's entries itself, and on Citus a trigger writing the log
      from a shard during a COPY is refused (a nested distributed query);
    - Citus: the tenant's row (a reference table) would go in by local execution on the
      coordinator, after which Citus refuses the parallel connections the shards' rows
      need; local execution off on the coordinator only (set_config, unlike SET, is not
      propagated to the workers). On one server an unused placeholder setting."""
    await connection.execute("set local refresh.audit = 'off'")
    await connection.execute("select set_config('citus.enable_local_execution', 'off', true)")
