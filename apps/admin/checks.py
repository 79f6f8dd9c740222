"""Validators piccolo-api runs before its endpoints: what it would otherwise answer with a
500 becomes a 400 that names the parameter.

piccolo-api resolves `__order` and `__visible_fields` by column name and lets the
ValueError of an unknown name escape as a 500; PUT is refused (the forms PATCH, and a
PUT would replace a row past the hooks).
"""

from __future__ import annotations

import json

from piccolo.columns import JSON
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

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


def admin_validators() -> Validators:
    """A new instance per table: piccolo-admin adds its superuser check to the login
    tables' validators in place."""
    return Validators(every=[known_columns], put_single=[refuse_put])
