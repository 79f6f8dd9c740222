"""Two commands on one tenant at once: the first to lock it erases it, and the second
finds no tenant left, rather than deleting the first one's audit entry and recording an
erasure of nothing. The commands are held by a lock another connection takes on the
tenant's row (or, for a tenant whose row is already gone, on its audit entries), then set
off together. Other tenants are untouched throughout."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

from refresh.db.clients import write_client
from refresh.lifecycle.erase import erase_tenant
from refresh.lifecycle.export import UnknownTenant, export_tenant
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.restore import import_tenant
from tests.refresh.lifecycle.support import counts, generated_tenant, others_digest, rows_of

ON_CITUS = os.environ.get("TEST_CITUS") == "1"

#: The sessions waiting for a lock. On a Citus cluster a command waits where the row it
#: locks is (a worker's shard, a node's replica of a reference table), in a backend the
#: coordinator opened for it; citus_stat_activity shows every node's, each with the
#: global pid of the session it works for.
WAITING = (
    "select count(distinct global_pid) as n from citus_stat_activity"
    " where datname = current_database() and wait_event_type = 'Lock'"
    if ON_CITUS
    else "select count(*) as n from pg_stat_activity"
    " where datname = current_database() and wait_event_type = 'Lock'"
)


async def waiting_for_locks(count: int) -> None:
    """Until `count` sessions of the test database wait for a lock."""
    for _ in range(500):
        rows = await write_client.fetch(WAITING)
        if rows[0]["n"] >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} sessions never waited for a lock")


@contextlib.asynccontextmanager
async def held(sql: str, *args: Any) -> AsyncIterator[None]:
    """`sql` (a locking select) in a transaction of another connection, until the end."""
    async with write_client.own_connection() as holder:
        transaction = holder.transaction()
        await transaction.start()
        try:
            await holder.execute(sql, *args)
            yield
        finally:
            await transaction.rollback()


async def one_after_the_other(
    lock: str, tenant_id: uuid.UUID, first: Awaitable[Any], second: Awaitable[Any]
) -> list[Any]:
    """`first`, then `second`, both set off while `lock` holds them: their outcomes."""
    async with held(lock, tenant_id):
        started = [asyncio.ensure_future(first)]
        await waiting_for_locks(1)
        started.append(asyncio.ensure_future(second))
        await waiting_for_locks(2)
    return list(await asyncio.gather(*started, return_exceptions=True))


def entries(rows: dict[str, list[str]]) -> list[tuple[str, dict[str, int]]]:
    return [
        (entry["action"], entry["changes"]["rows"]) for entry in map(json.loads, rows["audit_log"])
    ]


ROW_LOCK = "select 1 from tenant where id = $1 for key share"


async def test_the_second_of_two_erases_finds_no_tenant(tenant_a: Any, tenant_b: Any) -> None:
    slug = f"twice-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=4)
    others = await others_digest(tenant_id)
    first, second = await one_after_the_other(
        ROW_LOCK,
        tenant_id,
        erase_tenant(slug, stream=io.StringIO()),
        erase_tenant(slug, stream=io.StringIO()),
    )
    assert isinstance(first, dict) and first["task"] == 4, first
    assert isinstance(second, UnknownTenant), second
    assert str(second) == (
        f"no tenant {slug!r} ({tenant_id}) any more: it was erased while this waited for "
        "it; nothing erased"
    )
    left = await rows_of(tenant_id)
    assert {name: n for name, n in counts(left).items() if n} == {"audit_log": 1}
    assert entries(left) == [("erase", first)]  # the first erase's entry, its counts
    assert await others_digest(tenant_id) == others


async def test_an_import_replacing_a_tenant_an_erase_took_is_refused(
    tenant_a: Any, tenant_b: Any, tmp_path: Path
) -> None:
    slug = f"swap-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=4)
    saved = tmp_path / "saved.jsonl"
    await export_tenant(slug, saved)
    others = await others_digest(tenant_id)
    erased, imported = await one_after_the_other(
        ROW_LOCK,
        tenant_id,
        erase_tenant(slug, stream=io.StringIO()),
        import_tenant(saved, replace=True, stream=io.StringIO()),
    )
    assert isinstance(erased, dict) and erased["task"] == 4, erased
    assert isinstance(imported, ImportRefused), imported
    assert str(imported) == (
        f"the tenant {slug!r} ({tenant_id}) was erased while this import waited to replace "
        "it: import the file again"
    )
    left = await rows_of(tenant_id)
    assert {name: n for name, n in counts(left).items() if n} == {"audit_log": 1}
    assert entries(left) == [("erase", erased)]
    assert await others_digest(tenant_id) == others
    # the advice, followed: the file imports now
    await import_tenant(saved, stream=io.StringIO())
    assert counts(await rows_of(tenant_id))["task"] == 4


ENTRIES_LOCK = "select 1 from audit_log where tenant_id = $1 for update"


async def test_the_second_of_two_erases_of_leftovers_finds_none(
    tenant_a: Any, tenant_b: Any
) -> None:
    """A tenant whose row was deleted some other way has no row to lock: here the first
    erase is held by a lock on the entries it deletes."""
    slug = f"left-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=4)
    await write_client.fetch("delete from tenant where id = $1", tenant_id)  # cascades
    leftovers = counts(await rows_of(tenant_id))["audit_log"]
    assert leftovers > 0
    others = await others_digest(tenant_id)
    first, second = await one_after_the_other(
        ENTRIES_LOCK,
        tenant_id,
        erase_tenant(str(tenant_id), stream=io.StringIO()),
        erase_tenant(str(tenant_id), stream=io.StringIO()),
    )
    assert isinstance(first, dict) and first["audit_log"] == leftovers, first
    assert isinstance(second, UnknownTenant), second
    assert f"no tenant with slug or id {str(tenant_id)!r}" in str(second)
    assert entries(await rows_of(tenant_id)) == [("erase", first)]
    assert await others_digest(tenant_id) == others
