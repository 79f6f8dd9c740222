"""GET /api/tenant/export: a tenant admin downloads their tenant, and nothing of another's;
a member cannot; every export is in the audit log."""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from pathlib import Path

import pytest

from refresh.db.clients import write_client
from refresh.lifecycle.fileformat import Reader
from tests.database import superuser_sql, test_database


async def export_entries(tenant_id) -> list[dict]:
    return await write_client.fetch(
        "select actor, via from audit_log where tenant_id = $1 and action = 'export'",
        tenant_id,
    )


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The exports' temporary folder (tempfile's), private to the test: CI runs two suites
    side by side, and their exports would come and go in a shared /tmp meanwhile."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


async def test_a_tenant_admin_downloads_their_tenant_only(client, tenant_a, tenant_b, temp_folder):
    before = len(await export_entries(tenant_a.id))
    # B's own entries (the operators' export form tests export B too): unchanged by A's
    b_before = await export_entries(tenant_b.id)
    folders = export_folders(temp_folder)
    response = await client.get(
        "/api/tenant/export", headers={"Authorization": f"Bearer {tenant_a.admin_token}"}
    )
    assert response.status_code == 200, response.text
    assert export_folders(temp_folder) == folders  # the file is gone once sent
    assert response.headers["content-type"] == "application/gzip"
    assert 'filename="tenant-a.jsonl.gz"' in response.headers["content-disposition"]

    reader = Reader(io.BytesIO(gzip.decompress(response.content)))
    assert reader.manifest.tenant_id == str(tenant_a.id)
    seen = {}
    for entry in reader.manifest.tables:  # every checksum verified as it is read
        rows = [json.loads(line) for line in reader.rows(entry)]
        key = "id" if entry.name == "tenant" else "tenant_id"
        assert {r[key] for r in rows} <= {str(tenant_a.id)}, entry.name
        seen[entry.name] = len(rows)
    reader.finish()
    assert seen["tenant"] == 1 and seen["member"] >= 2
    assert str(tenant_b.id) not in gzip.decompress(response.content).decode()

    entries = await export_entries(tenant_a.id)
    assert len(entries) == before + 1
    assert entries[-1] == {"actor": "api:tenant-a-admin", "via": "api"}
    assert await export_entries(tenant_b.id) == b_before


async def test_a_range_gets_the_whole_file_and_head_makes_no_export(
    client, tenant_a, tenant_b, temp_folder
):
    """A Range, well-formed or not, is ignored: each export is a new file, so a part of
    one cannot be resumed from another. HEAD answers a GET's headers without making or
    auditing an export; each tenant's admin gets their own tenant's file name."""
    for tenant in (tenant_a, tenant_b):
        admin = {"Authorization": f"Bearer {tenant.admin_token}"}
        before = len(await export_entries(tenant.id))
        head = await client.head("/api/tenant/export", headers=admin)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == "application/gzip"
        assert f'filename="{tenant.slug}.jsonl.gz"' in head.headers["content-disposition"]
        assert head.headers["accept-ranges"] == "none"
        assert len(await export_entries(tenant.id)) == before
        member_head = await client.head("/api/tenant/export", headers=tenant.headers)
        assert member_head.status_code == 403

        for range_header in ("bytes=abc", "bytes=999999-", "bytes=0-9"):
            response = await client.get(
                "/api/tenant/export", headers={**admin, "Range": range_header}
            )
            assert response.status_code == 200, response.text
            assert "content-range" not in response.headers
            Reader(io.BytesIO(gzip.decompress(response.content))).manifest  # noqa: B018
        assert len(await export_entries(tenant.id)) == before + 3


async def test_a_member_is_refused_and_nothing_is_recorded(client, tenant_a):
    before = await export_entries(tenant_a.id)
    response = await client.get("/api/tenant/export", headers=tenant_a.headers)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "only tenant admins can export the tenant"
    assert await export_entries(tenant_a.id) == before
    anonymous = await client.get("/api/tenant/export")
    assert anonymous.status_code == 401


async def test_one_export_per_tenant_at_a_time(client, tenant_a, tenant_b):
    """An export holds one of the tenant's request slots while it reads: a second one of
    the same tenant (any worker: the lock is the database's) is refused with 429 and
    records nothing; another tenant's export is not held up."""
    from refresh.lifecycle.api import EXPORT_LOCK_KEY

    a_admin = {"Authorization": f"Bearer {tenant_a.admin_token}"}
    b_admin = {"Authorization": f"Bearer {tenant_b.admin_token}"}
    before = len(await export_entries(tenant_a.id))
    async with write_client.own_connection() as running:  # stands for A's first export
        await running.execute(f"select pg_advisory_lock({EXPORT_LOCK_KEY})", str(tenant_a.id))
        refused = await client.get("/api/tenant/export", headers=a_admin)
        other = await client.get("/api/tenant/export", headers=b_admin)
        read = await client.get("/api/tenant", headers=tenant_a.headers)
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "10"
    assert refused.json()["error"] == {
        "code": "too_many_requests",
        "message": "an export of this tenant is already running",
    }
    assert len(await export_entries(tenant_a.id)) == before
    assert other.status_code == 200 and read.status_code == 200
    assert str(tenant_a.id) not in gzip.decompress(other.content).decode()
    again = await client.get("/api/tenant/export", headers=a_admin)  # the first one ended
    assert again.status_code == 200, again.text
    assert len(await export_entries(tenant_a.id)) == before + 1


async def test_an_export_under_concurrent_writes_is_one_snapshot(client, tenant_b):
    """As the CLI's: the API export reads every table in one REPEATABLE READ snapshot, so
    a tenant writing meanwhile gets a file with each task and its audit entry, or neither
    (READ COMMITTED counted, then read, a different number of rows: a 500)."""
    import asyncio
    import uuid

    from refresh.db.claims import TenantRole
    from refresh.web.tokens import issue_token
    from settings import get_settings
    from tests.refresh.lifecycle.support import generated_tenant, rows_of, write_tasks_until

    slug = f"api-busy-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=20_000)  # user-1 is its admin
    token = issue_token(get_settings(), tenant_id, "user-1", TenantRole.admin)
    others = await client.get("/api/tenant/export", headers=tenant_b.headers)
    export = asyncio.create_task(
        client.get("/api/tenant/export", headers={"Authorization": f"Bearer {token}"})
    )
    written = await write_tasks_until(export, tenant_id)
    response = await export
    assert response.status_code == 200, response.text
    reader = Reader(io.BytesIO(gzip.decompress(response.content)))
    tasks = audited = 0
    for entry in reader.manifest.tables:  # every checksum verified as it is read
        for line in reader.rows(entry):
            row = json.loads(line)
            assert row.get("tenant_id", row.get("id")) == str(tenant_id)
            if entry.name == "task":
                tasks += 1
            elif entry.name == "audit_log" and (row["table_name"], row["action"]) == (
                "task",
                "insert",
            ):
                audited += 1
    reader.finish()
    in_database = len((await rows_of(tenant_id))["task"])
    assert written > 10 and in_database > tasks  # writes went on after the snapshot
    assert tasks == audited  # each task with its audit entry, or neither
    assert others.status_code == 403  # a member of B: nothing of anyone


async def test_a_failed_export_leaves_no_file_behind_and_records_nothing(
    client, tenant_a, temp_folder
):
    """An export that fails half-way (here a table the request roles lost their grant to)
    answers a plain error and leaves no partial file in the temporary folder."""
    before = export_folders(temp_folder)
    entries = len(await export_entries(tenant_a.id))
    superuser_sql(test_database(), "revoke select on comment from authenticated")
    try:
        response = await client.get(
            "/api/tenant/export", headers={"Authorization": f"Bearer {tenant_a.admin_token}"}
        )
    finally:
        superuser_sql(test_database(), "grant select on comment to authenticated")
    assert response.status_code == 403  # what a missing grant answers anywhere
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "not allowed for this tenant or role",
    }
    assert export_folders(temp_folder) == before
    assert len(await export_entries(tenant_a.id)) == entries


def export_folders(root: Path) -> set[Path]:
    return set(root.glob("refresh-export-*"))
