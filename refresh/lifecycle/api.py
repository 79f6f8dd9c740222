"""The export as a tenant's own admins ask for it (`GET /api/tenant/export`): read in the
request's transaction, so through RLS (the caller's tenant and nothing else, whatever the
code asks), and audited.

The rows are read, as the CLI reads them, in one REPEATABLE READ, READ ONLY transaction:
the request's own began READ COMMITTED (its first statement set the claims), so the
export opens a second connection with the same claims and role, through RLS as well. They
go to a temporary file (memory stays flat); the response streams that file after the
commit (`after_commit`, refresh/web/middleware.py) and removes it.

One export per tenant at a time, across every worker (a transaction-scoped advisory
lock): an export holds one of the tenant's request slots (refresh/web/fairness.py) for as
long as it reads, and a second one would take the tenant's last slot in production.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from refresh.db.claims import Claims
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB
from refresh.db.transaction import begin_script
from refresh.lifecycle.audit import Actor, record_while_present
from refresh.lifecycle.export import assemble, discard, snapshot
from refresh.lifecycle.fileformat import Manifest
from refresh.lifecycle.migrations import migration_state
from refresh.tenancy.naming import find_tenant

#: The advisory lock key of a tenant's export ($1: the tenant id).
EXPORT_LOCK_KEY = "hashtextextended('refresh.export:' || $1::text, 0)"


class ExportRunning(Exception):
    """An export of this tenant is in progress (this worker's or another's)."""


class TenantGone(LookupError):
    """The caller's tenant is not there (any more: erased while the export read it)."""


async def export_in_request(claims: Claims) -> tuple[Path, str]:
    """The caller's tenant exported to a temporary .jsonl.gz file; (path, slug)."""
    transaction: Any = READ_DB.current_transaction.get()
    if transaction is None:
        raise RuntimeError("export_in_request runs inside a request transaction")
    connection = transaction.connection
    locked = f"select pg_try_advisory_xact_lock({EXPORT_LOCK_KEY})"
    if not await connection.fetchval(locked, str(claims.tenant_id)):
        raise ExportRunning("an export of this tenant is already running")
    found = await find_tenant(connection, str(claims.tenant_id))  # RLS: its own row only
    if found is None:
        raise TenantGone("tenant not found")
    # Piccolo's migration table is not the request roles': read as the system.
    with write_client.outside_request("the migration state, for a tenant admin's export"):
        async with write_client.connection() as system:
            migrations = await migration_state(system)
    folder = Path(tempfile.mkdtemp(prefix="refresh-export-"))
    try:
        out = folder / f"{found[1]}.jsonl.gz"
        manifest = await read_snapshot(transaction, found, migrations, out)
        rows = {t.name: t.rows for t in manifest.tables}
        # The request roles cannot write the audit log (append-only, by its trigger): the
        # entry is a system action on the caller's behalf, in a transaction of its own.
        with write_client.outside_request("audit a tenant admin's export of their tenant"):
            async with write_client.connection() as system:
                actor = Actor(f"api:{claims.user_id}", "api")
                changes = {"rows": rows}
                # The row was read unlocked, the snapshot on another connection: an erase
                # may have come in between, and its rows must not leave after it.
                if not await record_while_present(
                    system, actor, claims.tenant_id, "export", changes
                ):
                    raise TenantGone("tenant not found")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no export left behind a failure
        raise
    return out, found[1]


async def read_snapshot(
    transaction: Any, found: tuple[uuid.UUID, str], migrations: dict[str, list[str]], out: Path
) -> Manifest:
    """The rows into `out`, read on a second connection with the request's claims and
    role, in one REPEATABLE READ snapshot."""
    body = tempfile.NamedTemporaryFile(dir=out.parent, suffix=".body", delete=False)
    try:
        # The request's transaction waits, idle, while the snapshot's connection reads.
        await transaction.connection.execute("set local idle_in_transaction_session_timeout = 0")
        reader = await READ_DB.get_new_connection()  # one export per tenant: not the pool's
        try:
            await reader.execute(
                begin_script(
                    transaction.claims.as_json(),
                    transaction.role,
                    read_only=True,
                    statement_timeout=transaction.statement_timeout,
                    snapshot=True,
                )
            )
            manifest = await snapshot(reader, *found, body, io.StringIO(), migrations)
        finally:
            await reader.close()  # ends its transaction, which wrote nothing
        body.close()
        assemble(manifest, Path(body.name), out)
        return manifest
    finally:
        discard(body)


def remove(path: Path) -> None:
    """The export's file and the folder made for it."""
    shutil.rmtree(path.parent, ignore_errors=True)
