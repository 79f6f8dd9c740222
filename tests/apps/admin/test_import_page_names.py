"""The import page names tenants as the command does: its Slug follows the tenant table's
rule (never an id), a replacement is confirmed by naming the tenant it erases (whatever
slug the file goes in under), and a tampered file (the nil tenant's, or nested deeper
than the server parses) is refused as such. Every refusal changes nothing, for any
tenant; every hint, typed in as printed, works."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from html import unescape

from refresh.db.clients import write_client
from refresh.tenancy.naming import NO_TENANT
from tests.apps.admin.support import new_operator, open_session
from tests.apps.admin.test_import_page import message, upload, without_audit
from tests.refresh.lifecycle.support import generated_tenant, others_digest, rows_of
from tests.refresh.lifecycle.test_damaged_sections import deeply_nested
from tests.refresh.lifecycle.test_refusals import NOBODY, first_row_of, rehash

SLUG_RULE = "must be 1-63 lowercase letters, digits or dashes"


async def test_the_slug_field_follows_the_tenant_tables_rule(app, tenant_a, tenant_b):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    session = await open_session(app, await new_operator())
    content = (await session.post("/forms/export-a-tenant/", {"slug": slug})).content
    before = await others_digest(NOBODY)
    for bad in ("Bad Slug", str(tenant_b.id), tenant_b.id.hex, "-x", "x" * 64):
        refused = await upload(session, content, slug=bad, confirm=f"replace {bad}")
        assert refused.status_code == 422, refused.text
        text = unescape(message(refused))
        assert text.startswith(f"nothing imported: the Slug {SLUG_RULE}"), text
        assert "not a tenant id (32 hex digits)" in text and "Confirm" not in text
    assert await others_digest(NOBODY) == before
    assert (await rows_of(tenant_id))["tenant"]


async def test_a_replacement_is_confirmed_by_the_name_of_the_tenant_it_erases(
    app, tenant_a, tenant_b
):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=15)
    session = await open_session(app, await new_operator())
    content = (await session.post("/forms/export-a-tenant/", {"slug": slug})).content
    before, others = without_audit(await rows_of(tenant_id)), await others_digest(tenant_id)

    copy = f"{slug}-copy"
    refused = await upload(session, content, slug=copy)
    assert refused.status_code == 422
    hint = re.search(r"type (.*) in the Confirm field", unescape(message(refused)))
    assert hint is not None and hint[1] == f"replace {slug}", message(refused)
    for wrong in (f"replace {copy}", f"replace {tenant_b.slug}", "replace", "yes"):
        mistyped = await upload(session, content, slug=copy, confirm=wrong)
        assert mistyped.status_code == 422
        assert f"to replace, type exactly: replace {slug}" in unescape(message(mistyped))
        assert without_audit(await rows_of(tenant_id)) == before
        assert await others_digest(tenant_id) == others  # tenant B untouched
    assert await write_client.fetch("select id from tenant where slug = $1", copy) == []

    followed = await upload(session, content, slug=copy, confirm=hint[1])  # as printed
    assert followed.status_code == 200, message(followed)
    (row,) = await write_client.fetch("select id, slug from tenant where id = $1", tenant_id)
    assert row["slug"] == copy  # the same tenant, erased and imported under the new slug
    after = without_audit(await rows_of(tenant_id))
    assert {k: v for k, v in after.items() if k != "tenant"} == {
        k: v for k, v in before.items() if k != "tenant"
    }
    assert await others_digest(tenant_id) == others


async def test_a_tampered_file_is_refused_as_damaged(app, tenant_a, tenant_b, no_server_errors):
    slug = f"imp-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    session = await open_session(app, await new_operator())
    download = await session.post("/forms/export-a-tenant/", {"slug": slug})
    lines = gzip.decompress(download.content).splitlines(keepends=True)
    old, nil = str(tenant_id).encode(), str(NO_TENANT).encode()
    as_nil = rehash([line.replace(old, nil) for line in lines])
    assert json.loads(as_nil[0])["tenant"]["id"] == str(NO_TENANT)
    deep = deeply_nested(lines, first_row_of(lines, "task") + 1)
    before = await others_digest(NOBODY)
    nil_refused = f"the file's tenant id {NO_TENANT} is the platform's id of no tenant"
    too_deep = "table task: a value is nested too deeply for a row of this table"
    for body, confirm, expected in (
        (as_nil, "", nil_refused),
        (as_nil, f"replace {slug}", nil_refused),
        # the tenant exists: erased first, then back with the refused rows' rollback
        (deep, f"replace {slug}", too_deep),
    ):
        response = await upload(session, gzip.compress(b"".join(body)), confirm=confirm)
        assert response.status_code == 422, response.text
        text = unescape(message(response))
        assert text.startswith(f"nothing imported: {expected}"), text
        assert "max_stack_depth" not in text and "Traceback" not in response.text
        assert await others_digest(NOBODY) == before
    assert await write_client.fetch("select id from tenant where id = $1", NO_TENANT) == []
