"""`piccolo tenants erase`: every row of a tenant, in every table that holds some, in one
transaction.

Children before parents (the reverse of the declared foreign keys' order), each delete
checked against the count taken under the tenant's row lock; then the tenant's audit
entries go too, and one entry records the erasure: who, when, how many rows of each
table. The nil id (NO_TENANT) is refused: the platform's own audit entries carry it.
Erasure is for good: export first to keep a copy. Any failure rolls back everything.
What apps keep about the tenant outside its rows (an operator's view of it in the admin)
ends in the same transaction: each app's `erasure` module, through the registry, since
the platform imports no app.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import IO, Any

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.lifecycle.audit import Actor, record, remove_entries, system_actor
from refresh.lifecycle.export import UnknownTenant, count_sql
from refresh.lifecycle.progress import Progress
from refresh.lifecycle.tables import AUDIT_LOG, TenantRows, tenant_tables
from refresh.registry import contributions
from refresh.tenancy.naming import NO_TENANT, find_tenant, tenant_id_in
from refresh.tenancy.tables import tenant_root_table

# Each app's module of that name may define `async def tenant_erased(connection,
# tenant_id)`: called in the erase's transaction, after the tenant's rows are gone.
ERASURE_MODULE = "erasure"


#: The advisory lock key of an erase of a tenant's leftovers ($1: the tenant id).
ERASE_LOCK_KEY = "hashtextextended('refresh.erase:' || $1::text, 0)"


class EraseFailed(RuntimeError):
    """A delete removed a different number of rows than counted: nothing was erased."""


@contextlib.asynccontextmanager
async def whole_transaction(connection: Any) -> AsyncIterator[None]:
    """The all or nothing of a lifecycle command: inside a caller's transaction (an
    operator's admin request) that one, without its statement timeout (the command has
    none: erasing or importing a large tenant takes longer than any request should);
    otherwise one of its own. A `set local` lasts until the caller's transaction ends."""
    if connection.is_in_transaction():
        await connection.execute("set local statement_timeout = 0")
        yield
    else:
        async with connection.transaction():
            yield


async def erase_tenant(
    slug_or_id: str,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    stream: IO[str] | None = None,
) -> dict[str, int]:
    """Erase the tenant (or, dry run, only count); returns the rows per table."""
    refuse_no_tenant(tenant_id_in(slug_or_id))  # before any query
    async with write_client.connection() as connection, whole_transaction(connection):
        found = await find_tenant(connection, slug_or_id)
        leftover = found is None
        if found is None:
            found = await leftovers(connection, slug_or_id)
        if found is None:
            raise UnknownTenant(
                f"no tenant with slug or id {slug_or_id!r} (what is left of a tenant whose "
                "row was deleted some other way is erased by its id: the tenant id in the "
                "first line of its export, `zcat FILE | head -1`)"
            )
        tenant_id, slug = found
        if dry_run:
            return await count_rows(connection, tenant_id)
        who = actor or await system_actor(connection)
        return await erase_in(connection, tenant_id, slug, who, stream, leftover=leftover)


def refuse_no_tenant(tenant_id: uuid.UUID | None) -> None:
    """The nil id names no tenant, but the platform's own audit entries (logins, staff
    profiles) carry it: `leftovers` would take them for what is left of a tenant."""
    if tenant_id == NO_TENANT:
        raise UnknownTenant(
            f"{NO_TENANT} is the platform's id of no tenant, not a tenant's: its audit "
            "entries are the platform's own (logins, staff profiles); nothing erased"
        )


async def leftovers(connection: Any, slug_or_id: str) -> tuple[uuid.UUID, str] | None:
    """(id, id) of a tenant whose row is gone but whose rows are not (its audit entries:
    deleted by a path that skips the erase), or None. The erase removes them as it would
    with the row: then its export can be imported again."""
    try:
        tenant_id = uuid.UUID(slug_or_id)
    except ValueError:
        return None
    # No row to lock (erase_in): two erases of the same leftovers take turns here, and
    # the second finds only the first one's entry, which is no leftover.
    await connection.execute(f"select pg_advisory_xact_lock({ERASE_LOCK_KEY})", str(tenant_id))
    counts = await count_rows(connection, tenant_id)
    # an erased tenant keeps the entry of its erasure: that is not a leftover
    erasures = await connection.fetchval(
        f"select count(*) from {ident(AUDIT_LOG)} where tenant_id = $1 and action = 'erase'",
        tenant_id,
    )
    return (tenant_id, str(tenant_id)) if sum(counts.values()) > erasures else None


async def count_rows(connection: Any, tenant_id: uuid.UUID) -> dict[str, int]:
    return {t.name: await connection.fetchval(count_sql(t), tenant_id) for t in tenant_tables()}


async def erase_in(
    connection: Any,
    tenant_id: uuid.UUID,
    slug: str,
    actor: Actor,
    stream: IO[str] | None = None,
    action: str = "erase",
    leftover: bool = False,
) -> dict[str, int]:
    """Erase inside the caller's transaction, then record `action` in the audit log.
    `leftover`: the tenant's row is gone already (`leftovers`), there is none to lock."""
    refuse_no_tenant(tenant_id)
    root = ident(tenant_root_table()._meta.tablename)
    # Writes of this tenant check their key to its row: they wait until this commits.
    locked = await connection.fetchval(
        f"select true from {root} where id = $1 for update", tenant_id
    )
    if not locked and not leftover:
        # Another erase (or an import replacing the tenant) held the row first, and took
        # it away when it committed: going on would delete that erase's entry and record
        # one of nothing.
        raise UnknownTenant(
            f"no tenant {slug!r} ({tenant_id}) any more: it was erased while this waited "
            "for it; nothing erased"
        )
    counts = await count_rows(connection, tenant_id)
    progress = Progress("erase", sum(counts.values()), stream)
    tables = tenant_tables()
    for table in reversed(tables):
        if not table.is_audit_log:
            await _delete(connection, table, tenant_id, counts[table.name], progress)
    audit = next((t for t in tables if t.is_audit_log), None)
    if audit is not None:
        # Its entries, and those the deletes above just added: erasure means they go too.
        removed = await remove_entries(connection, tenant_id)
        progress.table_done(audit.name, removed)
    for _, module in contributions(ERASURE_MODULE):
        await module.tenant_erased(connection, tenant_id)
    await record(connection, actor, tenant_id, action, {"slug": slug, "rows": counts})
    for table in tables:
        left = await connection.fetchval(count_sql(table), tenant_id)
        expected = 1 if table.is_audit_log else 0  # the erasure's own entry
        if left != expected:
            raise EraseFailed(f"{table.name}: {left} rows of the tenant remain; nothing erased")
    return counts


async def _delete(
    connection: Any, table: TenantRows, tenant_id: uuid.UUID, expected: int, progress: Progress
) -> None:
    status = await connection.execute(
        f"delete from {ident(table.name)} where {ident(table.key)} = $1", tenant_id
    )
    deleted = int(status.split()[-1])
    if deleted != expected:
        raise EraseFailed(
            f"{table.name}: deleted {deleted} rows, counted {expected}; nothing erased"
        )
    progress.advance(table.name, deleted)
    progress.table_done(table.name, deleted)
