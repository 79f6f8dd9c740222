"""Operators import a tenant's export on the admin's import page: the file the export form
downloads goes back in row by row, audited with their name; every refusal changes
nothing and its advice, typed into the form, clears it; tenant staff have no such page;
the page's upload limit is its own, every other admin body keeps MAX_BODY_BYTES."""

from __future__ import annotations

import gzip
import re
import uuid
from typing import Any

import pytest

from refresh.db.clients import write_client
from settings import get_settings
from tests.apps.admin.support import AdminSession, new_operator, new_staff, open_session
from tests.refresh.lifecycle.support import (
    corrupt_deflate,
    generated_tenant,
    others_digest,
    rows_of,
)
from tests.routes import test_routes

PAGE = "/admin/operator/import/"


async def upload(session: AdminSession, content: bytes, **fields: str) -> Any:
    files = {"file": ("export.jsonl.gz", content, "application/gzip")}
    return await session.client.post(PAGE, data=fields, files=files)


def message(response: Any) -> str:
    """The page's message paragraph."""
    found = re.search(r'<p class="message[^"]*">(.*?)</p>', response.text, re.S)
    return found[1] if found else response.text


def without_audit(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: found for name, found in rows.items() if name != "audit_log"}


async def exported_then_erased(session: AdminSession, slug: str) -> bytes:
    download = await session.post("/forms/export-a-tenant/", {"slug": slug})
    assert download.status_code == 200, download.text
    erased = await session.post(
        "/forms/erase-a-tenant/", {"slug": slug, "confirm": f"erase {slug}"}
    )
    assert erased.status_code == 200, erased.text
    return download.content


async def test_an_operator_restores_an_erased_tenant_from_its_export(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=40, comments=10)
    session = await open_session(app, await new_operator())
    before, others = await rows_of(tenant_id), await others_digest(tenant_id)
    content = await exported_then_erased(session, slug)

    page = await session.client.get(PAGE)
    assert page.status_code == 200 and 'type="file"' in page.text
    imported = await upload(session, content)
    assert imported.status_code == 200, imported.text
    assert f"imported {slug} ({tenant_id}): " in imported.text
    assert without_audit(await rows_of(tenant_id)) == without_audit(before)
    (entry,) = await write_client.fetch(
        "select id, via from audit_log where tenant_id = $1 and action = 'import'", tenant_id
    )
    assert entry["via"] == "operator"
    (action,) = await write_client.fetch(
        "select operator from operator_action where id = $1", entry["id"]
    )
    assert action["operator"] == f"operator:{session.username}"
    assert await others_digest(tenant_id) == others


async def test_a_tenant_that_exists_is_replaced_only_when_typed_out(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=20)
    session = await open_session(app, await new_operator())
    download = await session.post("/forms/export-a-tenant/", {"slug": slug})
    before = without_audit(await rows_of(tenant_id))

    refused = await upload(session, download.content)
    assert refused.status_code == 422
    advice = f"type replace {slug} in the Confirm field"
    assert advice in refused.text and "--replace" not in refused.text
    mistyped = await upload(session, download.content, confirm="replace")
    assert mistyped.status_code == 422
    assert f"to replace, type exactly: replace {slug}" in mistyped.text
    assert without_audit(await rows_of(tenant_id)) == before

    rows = gzip.decompress(download.content)
    damaged = gzip.compress(rows.replace(b'"priority": 1', b'"priority": 2', 1))
    assert damaged != gzip.compress(rows)
    failed = await upload(session, damaged, confirm=f"replace {slug}")
    assert failed.status_code == 422, failed.text
    assert without_audit(await rows_of(tenant_id)) == before  # the erasure went back too

    replaced = await upload(session, download.content, confirm=f"replace {slug}")  # the advice
    assert replaced.status_code == 200, replaced.text
    assert without_audit(await rows_of(tenant_id)) == before
    (entry,) = await write_client.fetch(
        "select changes from audit_log where tenant_id = $1 and action = 'import'", tenant_id
    )
    assert '"replaced": true' in entry["changes"]


async def test_a_slug_of_another_tenant_is_refused_and_another_one_taken(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=10)
    session = await open_session(app, await new_operator())
    content = await exported_then_erased(session, slug)
    others = await others_digest(tenant_id)

    taken = await upload(session, content, slug=tenant_b.slug)
    assert taken.status_code == 422
    assert "belongs to another tenant here" in taken.text
    assert "type another slug in the Slug field" in taken.text
    assert await others_digest(tenant_id) == others  # tenant B untouched

    renamed = await upload(session, content, slug=f"{slug}-new")
    assert renamed.status_code == 200, renamed.text
    (row,) = await write_client.fetch("select slug from tenant where id = $1", tenant_id)
    assert row["slug"] == f"{slug}-new"


async def test_a_damaged_or_foreign_file_imports_nothing(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=10)
    session = await open_session(app, await new_operator())
    content = gzip.decompress(await exported_then_erased(session, slug))
    edited = content.replace(b'"priority": 1', b'"priority": 2', 1)
    assert edited != content

    good = gzip.compress(content)
    bad_crc = good[:-8] + bytes([good[-8] ^ 0xFF]) + good[-7:]  # gzip's trailer: CRC, size
    for body, expected in (
        (gzip.compress(edited), "checksum"),
        (bad_crc, "the file is damaged"),
        (corrupt_deflate(good), "the file is damaged near line 1"),  # zlib's error: was a 500
        (good[:-4], "the file is damaged"),
        (b"name,title\n1,hello\n", "the manifest (line 1) is damaged"),
        (b"", "the file ends early"),
    ):
        response = await upload(session, body)
        assert response.status_code == 422, response.text
        assert "nothing imported" in response.text and expected in response.text, message(response)
        assert "Traceback" not in response.text
        assert not (await rows_of(tenant_id))["tenant"]
    missing = await session.client.post(PAGE, data={"slug": slug})
    assert missing.status_code == 422 and "choose an export file" in missing.text


async def test_tenant_staff_and_forged_requests_cannot_import(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    operator = await open_session(app, await new_operator())
    content = await exported_then_erased(operator, slug)

    staff = await open_session(app, await new_staff(tenant_a.id))
    assert (await staff.client.get(PAGE)).status_code == 404
    assert (await upload(staff, content)).status_code == 404
    operator.client.headers.pop("X-CSRFToken")
    assert (await upload(operator, content)).status_code == 403  # no CSRF token
    assert not (await rows_of(tenant_id))["tenant"]


async def test_the_upload_limit_is_the_import_pages_own(app, monkeypatch: pytest.MonkeyPatch):
    from app import create_app

    monkeypatch.setattr(get_settings(), "max_body_bytes", 4096)
    monkeypatch.setattr(get_settings(), "admin_import_max_bytes", 64 * 1024)
    limited = create_app(extra_api_routes=test_routes)  # the session's pools serve it
    session = await open_session(limited, await new_operator())
    junk = b"x" * 32 * 1024  # over MAX_BODY_BYTES, under ADMIN_IMPORT_MAX_BYTES
    read = await upload(session, junk)
    assert read.status_code == 422 and "nothing imported" in message(read)
    too_big = await upload(session, junk * 4)
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["error"]["code"] == "payload_too_large"
    elsewhere = await session.client.post("/admin/operator/view-as/", data={"tenant": "x" * 8192})
    assert elsewhere.status_code == 413
