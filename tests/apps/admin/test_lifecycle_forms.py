"""Operators export and erase a tenant from the admin (typed confirmation for the erase),
audited with their name; tenant staff have neither form."""

from __future__ import annotations

import asyncio
import gzip
import io
import uuid
from typing import Any

import pytest

from refresh.db.clients import write_client
from refresh.lifecycle.erase import erase_tenant
from refresh.lifecycle.export import export_tenant
from refresh.lifecycle.fileformat import Reader
from refresh.tenancy.naming import NO_TENANT
from settings import get_settings
from tests.apps.admin.support import new_operator, new_staff, open_session
from tests.refresh.lifecycle.support import generated_tenant, others_digest, rows_of
from tests.refresh.lifecycle.test_refusals import NOBODY


async def operator_of(entry_id) -> str | None:
    rows = await write_client.fetch("select operator from operator_action where id = $1", entry_id)
    return rows[0]["operator"] if rows else None


async def test_an_operator_exports_then_erases_a_tenant_after_typing_its_name(
    app, tenant_a, tenant_b
):
    slug = f"adm-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=30)
    session = await open_session(app, await new_operator())
    before, others = await rows_of(tenant_id), await others_digest(tenant_id)
    assert others["task"][0] == 0 or others["member"][0] >= 4  # tenants A and B are there

    download = await session.post("/forms/export-a-tenant/", {"slug": slug})
    assert download.status_code == 200, download.text
    assert f'filename="{slug}.jsonl.gz"' in download.headers["content-disposition"]
    reader = Reader(io.BytesIO(gzip.decompress(download.content)))
    assert reader.manifest.tenant_id == str(tenant_id)
    assert {e.name: e.rows for e in reader.manifest.tables}["task"] == 30
    (exported,) = await write_client.fetch(
        "select id, via from audit_log where tenant_id = $1 and action = 'export'", tenant_id
    )
    assert exported["via"] == "operator"
    assert await operator_of(exported["id"]) == f"operator:{session.username}"

    wrong = await session.post("/forms/erase-a-tenant/", {"slug": slug, "confirm": "yes"})
    assert wrong.status_code == 422
    assert wrong.json()["custom_form_error"] == f"to erase, type exactly: erase {slug}"
    after_refusal = await rows_of(tenant_id)
    after_refusal["audit_log"] = before["audit_log"]  # only the export's entry was added
    assert after_refusal == before

    erased = await session.post(
        "/forms/erase-a-tenant/", {"slug": slug, "confirm": f"erase {slug}"}
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["custom_form_success"].startswith(f"erased {slug}:")
    gone = await rows_of(tenant_id)
    assert {name: len(rows) for name, rows in gone.items() if rows} == {"audit_log": 1}
    (entry,) = await write_client.fetch(
        "select id, action, via from audit_log where tenant_id = $1", tenant_id
    )
    assert (entry["action"], entry["via"]) == ("erase", "operator")
    assert await operator_of(entry["id"]) == f"operator:{session.username}"
    assert await others_digest(tenant_id) == others


async def test_tenant_staff_have_no_lifecycle_forms(app, tenant_a, tenant_b):
    before = await rows_of(tenant_b.id)
    staff = await open_session(app, await new_staff(tenant_a.id))
    for form, body in (
        ("export-a-tenant", {"slug": tenant_b.slug}),
        ("erase-a-tenant", {"slug": tenant_b.slug, "confirm": f"erase {tenant_b.slug}"}),
        ("erase-a-tenant", {"slug": tenant_a.slug, "confirm": f"erase {tenant_a.slug}"}),
    ):
        response = await staff.post(f"/forms/{form}/", body)
        assert response.status_code == 404, response.text
    assert await rows_of(tenant_b.id) == before
    assert (await rows_of(tenant_a.id))["tenant"]


async def test_an_erase_is_not_cut_by_the_operators_statement_timeout(
    monkeypatch: pytest.MonkeyPatch, tenant_a: Any, tenant_b: Any
) -> None:
    """An operator's request has a statement timeout, the erase command none: erasing a
    large tenant from the admin must not fail half-way for it (nothing would be erased,
    but the form could never succeed). Here the erase waits on the tenant's row, locked
    by another transaction for three times the timeout, and then completes."""
    from app import create_app

    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "300")
    get_settings.cache_clear()
    try:
        strict_app = create_app()  # the pools are the test session's
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    slug = f"slow-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    session = await open_session(strict_app, await new_operator())
    others = await others_digest(tenant_id)
    async with write_client.own_connection() as holder, holder.transaction():
        await holder.execute("select 1 from tenant where id = $1 for update", tenant_id)
        erase = asyncio.create_task(
            session.post("/forms/erase-a-tenant/", {"slug": slug, "confirm": f"erase {slug}"})
        )
        await asyncio.sleep(0.9)
        assert not erase.done(), (await erase).text  # still waiting, past the timeout
    erased = await erase
    assert erased.status_code == 200, erased.text
    assert erased.json()["custom_form_success"].startswith(f"erased {slug}:")
    gone = await rows_of(tenant_id)
    assert {name: len(rows) for name, rows in gone.items() if rows} == {"audit_log": 1}
    assert await others_digest(tenant_id) == others


async def test_an_export_names_a_tenant_by_slug_or_id_and_never_builds_a_path_of_it(
    app, tenant_a, tenant_b, no_server_errors
):
    """Whatever is typed is looked up, not made into the file's name: `a/b` is no tenant
    (it was a 503, the path's folder missing); B's id downloads B, named by its slug."""
    session = await open_session(app, await new_operator())
    others = await others_digest(NOBODY)
    for typed in ("a/b", "../x", str(NOBODY)):
        refused = await session.post("/forms/export-a-tenant/", {"slug": typed})
        assert refused.status_code == 422, refused.text
        assert refused.json()["custom_form_error"] == f"no tenant with slug or id {typed!r}"
    assert await others_digest(NOBODY) == others

    download = await session.post("/forms/export-a-tenant/", {"slug": str(tenant_b.id)})
    assert download.status_code == 200, download.text
    assert f'filename="{tenant_b.slug}.jsonl.gz"' in download.headers["content-disposition"]
    reader = Reader(io.BytesIO(gzip.decompress(download.content)))
    assert reader.manifest.tenant_id == str(tenant_b.id)
    assert str(tenant_a.id) not in gzip.decompress(download.content).decode()


async def test_the_nil_tenant_cannot_be_erased_from_the_form(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    """The platform's own audit entries (logins, staff profiles) carry the nil id: erasing
    it by that id deleted them, and who of the operators made them."""
    session = await open_session(app, await new_operator())
    await new_staff(tenant_b.id)  # platform entries, made by the command line's login
    others = await others_digest(NOBODY)  # every tenant's rows, the nil id's entries too
    nil = str(NO_TENANT)
    refused = await session.post("/forms/erase-a-tenant/", {"slug": nil, "confirm": f"erase {nil}"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["custom_form_error"] == (
        f"{nil} is the platform's id of no tenant, not a tenant's: its audit entries are "
        "the platform's own (logins, staff profiles); nothing erased"
    )
    assert await others_digest(NOBODY) == others


async def test_an_export_of_a_tenant_erased_meanwhile_downloads_nothing(
    app: Any, tenant_a: Any, tenant_b: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export reads its snapshot on a connection of its own, then records itself in
    the operator's transaction: an erase in between left an `export` entry of the erased
    tenant, and its rows were downloaded after the erase. Paused after the read here."""
    slug = f"adm-gone-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=5)
    session = await open_session(app, await new_operator())
    others = await others_digest(tenant_id)
    read, resume = asyncio.Event(), asyncio.Event()

    async def paused(*args: Any, **kwargs: Any) -> Any:
        manifest = await export_tenant(*args, **kwargs)
        read.set()
        await resume.wait()
        return manifest

    monkeypatch.setattr("apps.admin.lifecycle.export_tenant", paused)
    download = asyncio.ensure_future(session.post("/forms/export-a-tenant/", {"slug": slug}))
    await asyncio.wait_for(read.wait(), 30)
    await erase_tenant(slug, stream=io.StringIO())
    resume.set()
    refused = await download
    assert refused.status_code == 422, refused.headers  # not the file
    assert refused.json()["custom_form_error"] == (
        f"no tenant {slug!r} ({tenant_id}) any more: it was erased while the export read "
        "it; nothing downloaded"
    )
    gone = await rows_of(tenant_id)
    assert {name: len(rows) for name, rows in gone.items() if rows} == {"audit_log": 1}
    assert await others_digest(tenant_id) == others
