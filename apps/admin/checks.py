"""Validators piccolo-api runs before its endpoints: what it would otherwise answer with a
500 becomes a 400 that names the parameter.

piccolo-api resolves `__order` and `__visible_fields` by column name and lets the
ValueError of an unknown name escape as a 500; PUT is refused (the forms PATCH, and a
PUT would replace a row past the hooks). A tenant's row is never deleted by the generic
delete (one row: piccolo-admin deletes selected rows one by one; and piccolo-api's delete
by filter, should piccolo-admin ever route it: 1.14 does not). Its foreign keys cascade
to its rows but not to its audit entries and operator actions, which are not keys to it,
and the orphans would make its export impossible to import again; the erase (form or
command) removes everything of the tenant in one transaction.
"""

from __future__ import annotations

import json
import uuid

from piccolo.columns import JSON
from piccolo.table import Table
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

from refresh.tenancy.tables import tenant_root_table

NAMED_COLUMNS = ("__order", "__visible_fields")


def bad_request(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


async def known_columns(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Column names in `__order`/`__visible_fields` are the table's own (no joins: the
    admin sends none, and piccolo-api answers a join past its depth with a 500), and a
    filter on a JSON column is JSON."""
    columns = {c._meta.name: c for c in piccolo_crud.table._meta.columns}
    for parameter in NAMED_COLUMNS:
        for value in request.query_params.getlist(parameter):
            for name in value.split(","):
                column = name[1:] if parameter == "__order" and name.startswith("-") else name
                if column not in columns:
                    raise bad_request(f"{parameter}: unknown column {column!r}")
    for name, value in request.query_params.multi_items():
        filtered = columns.get(name.removesuffix("[]"))
        if isinstance(filtered, JSON):  # JSONB is a JSON subclass
            try:
                json.loads(value)
            except ValueError:
                raise bad_request(f"{name}: not valid JSON") from None


async def refuse_put(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail="use PATCH: PUT would skip the form checks")


ERASE_FORM = "/admin/#/forms/erase-a-tenant/"  # apps/admin/lifecycle.py's "Erase a tenant"


def erase_advice(slug: str) -> str:
    return (
        "a tenant is not deleted here: its audit entries and the operators' records of it "
        "would stay behind, and its export could not be imported again. Nothing was "
        f"deleted. Erase it instead: the form Erase a tenant ({ERASE_FORM}) with Slug "
        f"`{slug}` and Confirm `erase {slug}`, or `piccolo tenants erase {slug}`"
    )


async def refuse_tenant_delete(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """The advice names the tenant when the request names one that exists."""
    slug = "SLUG"
    try:
        row_id = uuid.UUID(str(request.path_params.get("row_id", "")))
    except ValueError:
        row_id = None
    table = piccolo_crud.table
    if row_id is not None:
        found = await table.select(table._meta.get_column_by_name("slug")).where(
            table._meta.primary_key == row_id
        )
        slug = found[0]["slug"] if found else slug
    raise HTTPException(status_code=405, detail=erase_advice(slug))


def admin_validators(table: type[Table] | None = None) -> Validators:
    """A new instance per table: piccolo-admin adds its superuser check to the login
    tables' validators in place. The tenant root table's rows are not deleted here."""
    refusal = [refuse_tenant_delete] if table is tenant_root_table() else []
    return Validators(
        every=[known_columns],
        put_single=[refuse_put],
        delete_single=list(refusal),
        delete_all=list(refusal),
    )
