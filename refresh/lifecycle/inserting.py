"""A table's rows of an import, from the file's lines into the database, in batches.

Each batch is one statement keeping only the rows of the file's tenant (a row of another
tenant refuses the file). A table whose rows refer to rows of the same table (a parent
column: subtasks, replies) cannot go in batch by batch: the database checks a key at the
end of the statement that inserts its row, and a child may come in a batch before its
parent's. Its batches go into a staging table, then into the table in one statement.
Memory stays bounded in the import; the server, though, keeps one pending key check per
row of that statement until it ends (PostgreSQL's queue of after-trigger events), a few
dozen bytes a row.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from refresh.db.sql import ident
from refresh.lifecycle.fileformat import BadExport, TableEntry
from refresh.lifecycle.progress import Progress
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.tables import TenantRows

BATCH = 1000
#: A batch goes in sooner once its rows reach this many bytes: it is held three times (the
#: lines, the JSON array, its text), and the server parses it as one jsonb value, which
#: PostgreSQL caps at 256 MB (1,000 rows of 300 KB were refused). With lines bounded by
#: MAX_LINE (fileformat.py), the import's memory is bounded too.
BATCH_BYTES = 16 << 20


#: The staging table of a self-referencing table's rows, named per import. Not a temporary
#: table: a deployment may revoke TEMPORARY from every role but the database's owner (the
#: rls migrations revoke it from PUBLIC), which the write client need not be; it creates
#: tables where it made its own. Unlogged, created and dropped inside the import's
#: transaction, so no other session ever sees it and a failed import leaves none.
STAGE_PREFIX = "refresh_import_stage_"


def insert_sql(table: TenantRows, into: str | None = None) -> str:
    """A batch of rows (a JSON array) into the table (or `into`, a table of its columns),
    keeping only the rows of tenant $2: the caller compares the count, so a row of
    another tenant refuses the file."""
    name = ident(table.name)
    return (
        f"with inserted as (insert into {ident(into or table.name)} select * from"
        f" jsonb_populate_recordset(null::{name}, $1::jsonb) r where r.{ident(table.key)} = $2"
        " returning 1) select count(*) from inserted"
    )


async def refers_to_itself(connection: Any, table: TenantRows) -> bool:
    """A foreign key of the table refers to the table: read from the catalog, so a key
    written by hand in a migration counts as well as a declared one."""
    found: bool = await connection.fetchval(
        "select exists (select from pg_constraint where contype = 'f'"
        " and conrelid = $1::text::regclass and confrelid = conrelid)",
        ident(table.name),
    )
    return found


@contextlib.asynccontextmanager
async def destination(connection: Any, table: TenantRows) -> AsyncIterator[str | None]:
    """Where the batches go: None for the table itself, or a staging table whose rows go
    into the table in one statement at the end (each key checked then, all rows there)."""
    if not await refers_to_itself(connection, table):
        yield None
        return
    name, stage = ident(table.name), STAGE_PREFIX + uuid.uuid4().hex[:12]
    await connection.execute(f"create unlogged table {ident(stage)} (like {name})")
    yield stage
    await connection.execute(f"insert into {name} select * from {ident(stage)}")
    await connection.execute(f"drop table {ident(stage)}")


async def insert_rows(
    connection: Any,
    table: TenantRows,
    entry: TableEntry,
    rows: Any,
    tenant_id: uuid.UUID,
    progress: Progress,
) -> None:
    async with destination(connection, table) as into:
        await _insert_batches(connection, table, insert_sql(table, into), rows, tenant_id, progress)
    progress.table_done(table.name, entry.rows)


async def _insert_batches(
    connection: Any,
    table: TenantRows,
    sql: str,
    rows: Any,
    tenant_id: uuid.UUID,
    progress: Progress,
) -> None:
    batch: list[bytes] = []

    async def flush() -> None:
        payload = b"[" + b",".join(line.rstrip(b"\n") for line in batch) + b"]"
        try:
            inserted = await connection.fetchval(sql, payload.decode(), tenant_id)
        except UnicodeDecodeError:
            raise BadExport(f"table {table.name}: a row is not UTF-8 text") from None
        except asyncpg.StatementTooComplexError:  # the server's "increase max_stack_depth"
            raise BadExport(
                f"table {table.name}: a value is nested too deeply for a row of this table "
                "(the file is damaged or was edited)"
            ) from None
        if inserted != len(batch):
            raise ImportRefused(
                f"table {table.name}: {len(batch) - inserted} rows belong to another tenant "
                f"than the manifest's ({tenant_id}); the file was edited"
            )
        progress.advance(table.name, len(batch))
        batch.clear()

    rows = iter(rows)
    size = 0
    try:
        for line in rows:
            batch.append(line)
            size += len(line)
            if len(batch) == BATCH or size >= BATCH_BYTES:
                await flush()
                size = 0
        if batch:
            await flush()
    except (asyncpg.PostgresError, BadExport, ImportRefused):
        # A batch went in before the section's checksum was read (it is checked after
        # its last row): a damaged file is reported as damaged, not as what the damage
        # made the database or the count say. Reading the rest raises BadExport if so.
        for _ in rows:
            pass
        raise
