"""A tenant erased while its admin's export reads it: the export answers 404 and leaves
no audit entry behind the erasure's (it read the tenant's row without a lock and recorded
its entry afterwards, on another connection: the erased tenant kept an `export` entry,
and its rows left after the erase). Other tenants are untouched.

The export is paused once its snapshot is read; the erase has then committed, or is
still running, held by a lock on one of the tenant's tasks."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from refresh.db.claims import TenantRole
from refresh.db.clients import write_client
from refresh.lifecycle import api
from refresh.lifecycle.erase import erase_tenant
from refresh.web.tokens import issue_token
from settings import get_settings
from tests.refresh.lifecycle.support import counts, generated_tenant, others_digest, rows_of
from tests.refresh.lifecycle.test_erase_races import held, waiting_for_locks


async def export_paused_after_its_read(
    client: httpx.AsyncClient,
    tenant_id: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: Callable[[], Awaitable[None]],
) -> httpx.Response:
    """The tenant's admin exports it; `meanwhile` runs once the rows are read, before the
    export records itself."""
    read, resume = asyncio.Event(), asyncio.Event()
    original = api.read_snapshot

    async def paused(*args: Any) -> Any:
        manifest = await original(*args)
        read.set()
        await resume.wait()
        return manifest

    monkeypatch.setattr(api, "read_snapshot", paused)
    token = issue_token(get_settings(), tenant_id, "user-1", TenantRole.admin)
    export = asyncio.ensure_future(
        client.get("/api/tenant/export", headers={"Authorization": f"Bearer {token}"})
    )
    await asyncio.wait_for(read.wait(), 30)
    await meanwhile()
    resume.set()
    return await export


def assert_gone(response: httpx.Response, rows: dict[str, list[str]]) -> None:
    assert response.status_code == 404, response.headers  # not the file
    assert response.json()["error"] == {"code": "not_found", "message": "tenant not found"}
    assert {name: n for name, n in counts(rows).items() if n} == {"audit_log": 1}


async def test_an_erase_committed_during_an_export_leaves_no_export_entry(
    client: httpx.AsyncClient, tenant_b: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = f"exp-gone-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)  # user-1 is its admin
    others = await others_digest(tenant_id)

    async def erase() -> None:
        await erase_tenant(slug, stream=io.StringIO())

    response = await export_paused_after_its_read(client, tenant_id, monkeypatch, erase)
    assert_gone(response, await rows_of(tenant_id))
    assert await others_digest(tenant_id) == others


async def test_an_export_waits_for_a_running_erase_and_then_records_nothing(
    client: httpx.AsyncClient, tenant_b: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = f"exp-erasing-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    (task,) = await write_client.fetch(
        "select id from task where tenant_id = $1 limit 1", tenant_id
    )
    others = await others_digest(tenant_id)
    erasing: list[asyncio.Future[Any]] = []

    async def erase_held_half_way() -> None:
        # the erase locks the tenant's row, then waits for the task's lock
        erasing.append(asyncio.ensure_future(erase_tenant(slug, stream=io.StringIO())))
        await waiting_for_locks(1)

    # by tenant too: on Citus a row lock must be a query routed to one shard
    lock = "select 1 from task where tenant_id = $1 and id = $2 for update"
    async with held(lock, tenant_id, task["id"]):
        export = asyncio.ensure_future(
            export_paused_after_its_read(client, tenant_id, monkeypatch, erase_held_half_way)
        )
        await waiting_for_locks(2)  # the export's entry waits for the erase
    response = await export
    assert sum((await erasing[0]).values()) > 0
    assert_gone(response, await rows_of(tenant_id))
    assert await others_digest(tenant_id) == others
