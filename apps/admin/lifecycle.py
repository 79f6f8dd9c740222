"""The tenant lifecycle for operators in the admin: a form that downloads a tenant's export,
and a form that erases a tenant behind a typed confirmation (`erase SLUG`). Both run in
the operator's transaction on the write client and are audited with the operator's name
(operator_action), like every operator change.

The download is held in memory by piccolo-admin's form response: for a large tenant,
`piccolo tenants export` (streamed, bounded memory) is the tool.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from pathlib import Path

from piccolo_admin.endpoints import FileResponse, FormConfig
from pydantic import BaseModel, Field
from starlette.requests import Request

from refresh.db.clients import write_client
from refresh.db.engines import WRITE_DB
from refresh.lifecycle.audit import Actor, record_while_present
from refresh.lifecycle.erase import EraseFailed, erase_tenant
from refresh.lifecycle.export import UnknownTenant, export_tenant

GROUP = "Tenant lifecycle"


class ExportForm(BaseModel):
    slug: str = Field(description="the tenant's slug")


class EraseForm(BaseModel):
    slug: str = Field(description="the tenant's slug")
    confirm: str = Field(description="type: erase SLUG")


def operator() -> Actor:
    """The operator of this admin request, as its transaction names them."""
    actor: str = getattr(WRITE_DB.current_transaction.get(), "actor", "operator:?")
    return Actor.operator_named(actor)


async def export_form(request: Request, data: ExportForm) -> FileResponse:
    with tempfile.TemporaryDirectory() as folder:
        # A name of our own: the typed text is looked up, never made into a path (`a/b`).
        out = Path(folder) / "export.jsonl.gz"
        try:
            # a snapshot of its own (REPEATABLE READ), beside the operator's transaction
            manifest = await export_tenant(data.slug, out, io.StringIO(), own=True)
        except UnknownTenant as exc:
            raise ValueError(str(exc)) from None
        contents = io.BytesIO(out.read_bytes())
    async with write_client.connection() as connection:  # the operator's transaction
        rows = {t.name: t.rows for t in manifest.tables}
        # The snapshot was read on a connection of its own: an erase may have come in
        # between, and its rows must not leave after it.
        if not await record_while_present(
            connection, operator(), uuid.UUID(manifest.tenant_id), "export", {"rows": rows}
        ):
            raise ValueError(
                f"no tenant {manifest.slug!r} ({manifest.tenant_id}) any more: it was erased "
                "while the export read it; nothing downloaded"
            )
    return FileResponse(contents, f"{manifest.slug}.jsonl.gz", "application/gzip")


async def erase_form(request: Request, data: EraseForm) -> str:
    expected = f"erase {data.slug}"
    if data.confirm.strip() != expected:
        raise ValueError(f"to erase, type exactly: {expected}")
    try:
        counts = await erase_tenant(data.slug, actor=operator(), stream=io.StringIO())
    except (UnknownTenant, EraseFailed) as exc:
        raise ValueError(str(exc)) from None
    return f"erased {data.slug}: {sum(counts.values()):,} rows"


def operator_forms() -> list[FormConfig]:
    return [
        FormConfig(
            name="Export a tenant",
            pydantic_model=ExportForm,
            endpoint=export_form,
            description="Download every row of a tenant (the file of `piccolo tenants "
            "export`: gzip JSON lines, restorable with `piccolo tenants import`).",
            form_group=GROUP,
        ),
        FormConfig(
            name="Erase a tenant",
            pydantic_model=EraseForm,
            endpoint=erase_form,
            description="Delete every row of a tenant and its audit entries, for good "
            "(one audit entry records the erasure). Export it first to keep a copy. "
            "Type `erase SLUG` to confirm.",
            form_group=GROUP,
        ),
    ]
