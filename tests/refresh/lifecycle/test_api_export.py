"""GET /api/tenant/export: a tenant admin downloads their tenant, and nothing of another's;
a member cannot; every export is in the audit log."""

from __future__ import annotations

import gzip
import io
import json

from refresh.db.clients import write_client
from refresh.lifecycle.fileformat import Reader


async def export_entries(tenant_id) -> list[dict]:
    return await write_client.fetch(
        "select actor, via from audit_log where tenant_id = $1 and action = 'export'",
        tenant_id,
    )


async def test_a_tenant_admin_downloads_their_tenant_only(client, tenant_a, tenant_b):
    before = len(await export_entries(tenant_a.id))
    response = await client.get(
        "/api/tenant/export", headers={"Authorization": f"Bearer {tenant_a.admin_token}"}
    )
    assert response.status_code == 200, response.text
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
    assert await export_entries(tenant_b.id) == []


async def test_a_member_is_refused_and_nothing_is_recorded(client, tenant_a):
    before = await export_entries(tenant_a.id)
    response = await client.get("/api/tenant/export", headers=tenant_a.headers)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "only tenant admins can export the tenant"
    assert await export_entries(tenant_a.id) == before
    anonymous = await client.get("/api/tenant/export")
    assert anonymous.status_code == 401
