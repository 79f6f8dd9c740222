"""The audit trigger paused while benchmark data is loaded, and the checks that it is on again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg

from refresh.schema.state import AUDIT_TRIGGER  # the one AFTER ROW audit trigger per table

LOADED_TABLES = ("tenant", "member", "project", "task")  # what bench/datagen.py writes


@contextlib.asynccontextmanager
async def audit_paused(
    connection: asyncpg.Connection, tables: Sequence[str] = LOADED_TABLES
) -> AsyncIterator[None]:
    """The audit trigger off on `tables`, for the current transaction only.

    Benchmark data is not a change anyone made: with the trigger on, every COPY row
    would also write an audit_log row (a million for the full data set), doubling the
    load's work and leaving the audit log of the bench database meaningless.
    `ALTER TABLE ... DISABLE TRIGGER` is transactional: it is undone by the `ENABLE`
    below before the transaction commits, and by the rollback if the load fails, so no
    other session ever sees the trigger off, and an interrupted load cannot leave it off.
    It needs the table's owner (the admin role, which loads the data) and takes a SHARE
    ROW EXCLUSIVE lock until the commit: nothing else writes to the bench database. Not
    `session_replication_role = replica`, which needs a superuser and would also skip
    the foreign key checks the load goes through on purpose.
    """
    if not connection.is_in_transaction():
        raise RuntimeError("audit_paused must run inside the load's transaction")
    for table in tables:
        await connection.execute(f"alter table {table} disable trigger {AUDIT_TRIGGER}")
    yield
    for table in tables:
        await connection.execute(f"alter table {table} enable trigger {AUDIT_TRIGGER}")


async def check_audit_enabled(
    connection: asyncpg.Connection, tables: Sequence[str] = LOADED_TABLES
) -> None:
    """Raise unless every loaded table has its audit trigger, enabled ('O': origin)."""
    rows = await connection.fetch(
        "select c.relname, t.tgenabled::text as tgenabled"
        " from pg_trigger t join pg_class c on c.oid = t.tgrelid"
        " where t.tgname = $1 and c.relname = any($2::text[])",
        AUDIT_TRIGGER,
        list(tables),
    )
    states = {r["relname"]: r["tgenabled"] for r in rows}
    wrong = {t: states.get(t, "missing") for t in tables if states.get(t) != "O"}
    if wrong:
        raise RuntimeError(f"audit trigger missing or not enabled: {wrong}")


async def check_audited_nothing(connection: asyncpg.Connection, audit_rows_before: int) -> None:
    """The load wrote no audit entry, and left every audit trigger enabled."""
    await check_audit_enabled(connection)
    written = await connection.fetchval("select count(*) from audit_log") - audit_rows_before
    if written:
        raise RuntimeError(f"the load wrote {written:,} audit_log rows: was the trigger on?")
