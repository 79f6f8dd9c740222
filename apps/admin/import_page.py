"""Operators import a tenant's export in the admin: the file `piccolo tenants export` or
the admin's "Export a tenant" form wrote, uploaded on a page of the operators' own
(/admin/operator/import/; piccolo-admin's forms send JSON, not files).

The same import as the command (refresh/lifecycle/restore.py: same migration state, every
checksum, all or nothing), run in the operator's transaction and audited with their name.
A tenant that exists is replaced only when the operator types `replace SLUG`, SLUG being
the tenant that goes (like the erase form's `erase SLUG`), whichever slug the file is
imported under; a file too deeply nested for the server is damaged, as the command says;
refusals
are the command's, with the remedy worded for this form. The upload is read whole before
the transaction opens (ADMIN_IMPORT_MAX_BYTES, apps/admin/gate.py) and written to a
temporary file for the import; larger exports go through `piccolo tenants import`.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from html import escape
from pathlib import Path

import asyncpg
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apps.admin.gate import IMPORT_PAGE
from apps.admin.lifecycle import operator as operator_actor
from apps.admin.pages import csrf_field, form_of, page
from apps.tenants.tables import slug_problem
from refresh.lifecycle.fileformat import BadExport
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.restore import import_tenant
from refresh.web.errors import pg_error

TITLE = "Import a tenant"


def remedy(refusal: ImportRefused, confirm: str) -> str:
    """What to do about a refusal, in this form's terms: the confirmation names the tenant
    that replacing erases."""
    if refusal.remedy == "slug":
        return f"{refusal.reason}: type another slug in the Slug field"
    if refusal.remedy == "replace" and confirm:
        return f"{refusal.reason}: to replace, type exactly: replace {refusal.existing}"
    if refusal.remedy == "replace":
        return (
            f"{refusal.reason}: type replace {refusal.existing} in the Confirm field to erase "
            "it and import the file in its place, in one transaction"
        )
    return refusal.reason


def confirmed(confirm: str) -> str | None:
    """The slug a confirmation names (`replace SLUG`), "" for one that names none (the
    import then refuses to replace any tenant), None when there is none."""
    if not confirm:
        return None
    verb, _, slug = confirm.partition(" ")
    return slug.strip() if verb == "replace" else ""


async def import_form(request: Request, message: str = "", status: int = 200) -> Response:
    kind = "message" if status < 400 else "message error"
    parts = [f"<h1>{TITLE}</h1>"]
    if message:
        parts.append(f'<p class="{kind}">{escape(message)}</p>')
    parts.append(
        "<p>Restore a tenant from its export file (<code>.jsonl.gz</code>, from "
        "<code>piccolo tenants export</code> or the admin's Export a tenant form). The "
        "database must be at the file's migration state; every table's checksum is "
        "verified; nothing changes unless all of it goes in.</p>"
        f'<form method="post" enctype="multipart/form-data">{csrf_field(request)}'
        '<p><label>Export file <input type="file" name="file" required></label></p>'
        '<p><label>Slug <input name="slug" placeholder="the file\'s own"></label></p>'
        '<p><label>Confirm <input name="confirm" placeholder="replace SLUG"></label> '
        "only to replace a tenant that exists</p>"
        '<button type="submit">Import</button></form>'
    )
    return page(request, TITLE, "".join(parts), status)


async def import_upload(request: Request) -> Response:
    form = await form_of(request)
    try:
        return await import_from(request, form)
    finally:
        await form.close()  # the upload's spooled file


async def import_from(request: Request, form: FormData) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await import_form(request, "nothing imported: choose an export file", 422)
    slug = str(form.get("slug") or "").strip() or None
    confirm = str(form.get("confirm") or "").strip()
    problem = slug_problem(slug) if slug else None
    if problem:
        return await import_form(request, f"nothing imported: the Slug {problem}", 422)
    with tempfile.TemporaryDirectory(prefix="refresh-import-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        try:
            manifest = await import_tenant(
                path,
                slug=slug,
                replace=bool(confirm),
                replacing=confirmed(confirm),
                actor=operator_actor(),
                stream=io.StringIO(),
            )
        except BadExport as exc:
            return await import_form(request, f"nothing imported: {exc}", 422)
        except ImportRefused as exc:
            return await import_form(request, f"nothing imported: {remedy(exc, confirm)}", 422)
        except asyncpg.PostgresError as exc:
            # e.g. a row's id taken by another tenant's row: the API's words, never the
            # server's (they could name that row)
            mapped = pg_error(exc)
            if mapped is None:
                raise
            message = f"{mapped[2]}; `piccolo tenants import` prints the details"
            return await import_form(request, f"nothing imported: {message}", mapped[0])
    rows = sum(entry.rows for entry in manifest.tables)
    target = slug or manifest.slug
    return await import_form(request, f"imported {target} ({manifest.tenant_id}): {rows:,} rows")


def import_routes() -> list[Route]:
    return [
        Route(IMPORT_PAGE, import_form, methods=["GET"]),
        Route(IMPORT_PAGE, import_upload, methods=["POST"]),
    ]
