"""`piccolo tenants export`: one tenant's rows, as one consistent snapshot, to a file.

One REPEATABLE READ, READ ONLY transaction on the write client reads every table of
`exported_tables()` through a server-side cursor (a bounded number of rows in memory at
a time), so concurrent writes are either wholly in the file or not at all. The rows go to
a temporary body file first, while their checksums are computed; the manifest, which
needs those, is written at the head of the final file, which replaces FILE only when
complete.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.lifecycle.fileformat import (
    Manifest,
    TableEntry,
    compressed_name,
    open_for_writing,
    section_line,
)
from refresh.lifecycle.migrations import migration_state
from refresh.lifecycle.progress import Progress
from refresh.lifecycle.tables import TenantRows, exported_tables
from refresh.tenancy.naming import find_tenant

#: Rows fetched per round trip of the cursor: memory stays flat whatever the tenant's size.
PREFETCH = 1000


class UnknownTenant(LookupError):
    pass


def rows_sql(table: TenantRows) -> str:
    """A table's rows of one tenant as PostgreSQL renders them, in a stable order."""
    return (
        f"select to_jsonb(t)::text from {ident(table.name)} t "
        f"where t.{ident(table.key)} = $1 order by t.id"
    )


def count_sql(table: TenantRows) -> str:
    return f"select count(*) from {ident(table.name)} where {ident(table.key)} = $1"


async def begin_snapshot(connection: Any) -> None:
    """Times rendered in UTC, whatever the server's or the role's TimeZone, so that the
    same row always renders (and hashes) the same."""
    await connection.execute("set local timezone = 'UTC'")


async def export_tenant(
    slug_or_id: str, out: Path, stream: IO[str] | None = None, own: bool = False
) -> Manifest:
    """Write the tenant's export to `out` (gzip when it ends in .gz); returns its manifest.
    `own`: on a connection of its own even inside a transaction (an operator's request)."""
    out = Path(out)
    body = body_file(out)
    try:
        connect = write_client.own_connection if own else write_client.connection
        async with connect() as connection:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                found = await find_tenant(connection, slug_or_id)
                if found is None:
                    raise UnknownTenant(f"no tenant with slug or id {slug_or_id!r}")
                manifest = await snapshot(connection, *found, body, stream)
        body.close()
        assemble(manifest, Path(body.name), out)
    finally:
        discard(body)
    return manifest


def discard(body: IO[bytes]) -> None:
    body.close()
    Path(body.name).unlink(missing_ok=True)


async def snapshot(
    connection: Any,
    tenant_id: uuid.UUID,
    slug: str,
    body: IO[bytes],
    stream: IO[str] | None,
    migrations: dict[str, list[str]] | None = None,
) -> Manifest:
    """The tenant's rows into `body` (sections of row lines), read in the caller's
    transaction; returns the manifest with their counts and checksums."""
    await begin_snapshot(connection)
    tables = exported_tables()
    manifest = Manifest(
        tenant_id=str(tenant_id),
        slug=slug,
        exported_at=datetime.datetime.now(datetime.UTC).isoformat(),
        migrations=migrations if migrations is not None else await migration_state(connection),
    )
    counts = [await connection.fetchval(count_sql(t), tenant_id) for t in tables]
    progress = Progress("export", sum(counts), stream)
    for table, count in zip(tables, counts, strict=True):
        body.write(section_line(table.name, count))
        manifest.tables.append(
            await _write_rows(connection, table, tenant_id, count, body, progress)
        )
    return manifest


def body_file(out: Path) -> IO[bytes]:
    """A temporary file beside `out` for the rows, while their checksums are computed."""
    return tempfile.NamedTemporaryFile(
        dir=out.parent, prefix=f".{out.name}.", suffix=".body", delete=False
    )


async def _write_rows(
    connection: Any,
    table: TenantRows,
    tenant_id: uuid.UUID,
    count: int,
    body: IO[bytes],
    progress: Progress,
) -> TableEntry:
    digest = hashlib.sha256()
    written = 0
    async for record in connection.cursor(rows_sql(table), tenant_id, prefetch=PREFETCH):
        line = record[0].encode() + b"\n"
        digest.update(line)
        body.write(line)
        written += 1
        if written % PREFETCH == 0:
            progress.advance(table.name, PREFETCH)
    progress.advance(table.name, written % PREFETCH)
    progress.table_done(table.name, written)
    # The same snapshot counted them: a difference would be a bug, not a concurrent write.
    assert written == count, f"{table.name}: counted {count} rows, read {written}"
    return TableEntry(table.name, written, digest.hexdigest())


def assemble(manifest: Manifest, body: Path, out: Path) -> None:
    """The manifest, then the body, into a temporary file renamed over `out` at the end:
    an interrupted export never leaves a file that looks complete."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        with open_for_writing(partial, compressed_name(out)) as target, body.open("rb") as source:
            target.write(manifest.to_line())
            shutil.copyfileobj(source, target, length=1 << 20)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
