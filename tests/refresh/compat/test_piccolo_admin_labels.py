"""refresh/compat/piccolo_admin_labels.py: a column's values shown by a label, through the
choices of the schema piccolo-admin reads.

The first test watches the libraries: piccolo-api's schema has `extra.choices` for every
column (what the adaptation fills in), and piccolo-admin's page still shows a cell by its
choice's `display_name`. The second checks the adaptation on piccolo-api's real schema.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import piccolo_admin
from piccolo.columns import UUID, Varchar
from piccolo.table import Table
from piccolo_api.crud.endpoints import PiccoloCRUD

from refresh.compat.piccolo_admin_labels import labelled_values

TENANT = "6f1c3d5e-0000-4000-8000-000000000001"


class Entry(Table):
    tenant_id = UUID()
    note = Varchar(length=20)


def crud_at(root: str) -> Any:
    crud = PiccoloCRUD(table=Entry, read_only=True)

    async def site(scope: Any, receive: Any, send: Any) -> None:
        await crud({**scope, "path": scope["path"].removeprefix(root) or "/"}, receive, send)

    return site


async def get_schema(app: Any, path: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    assert int(response.headers["content-length"]) == len(response.content)
    schema: dict[str, Any] = response.json()
    return schema


async def test_piccolo_api_schema_has_choices_and_piccolo_admin_shows_their_names() -> None:
    schema = await get_schema(crud_at(""), "/schema/")
    assert schema["properties"]["tenant_id"]["extra"]["choices"] is None  # what we fill
    bundle = next((Path(piccolo_admin.__file__).parent / "dist" / "assets").glob("*.js"))
    # the list page's lookup: value -> display_name, from each property's extra.choices
    assert re.search(r"\.extra\.choices.{0,120}display_name", bundle.read_text())


async def test_labelled_columns_get_choices_made_per_request() -> None:
    calls = []

    async def labels() -> dict[str, str]:
        calls.append(1)
        return {TENANT: "acme"}

    app = labelled_values(crud_at("/api/tables/entry"), {"entry": {"tenant_id": labels}})
    schema = await get_schema(app, "/api/tables/entry/schema/")
    assert schema["properties"]["tenant_id"]["extra"]["choices"] == {
        TENANT: {"display_name": "acme", "value": TENANT}
    }
    assert schema["properties"]["note"]["extra"]["choices"] is None
    await get_schema(app, "/api/tables/entry/schema/")
    assert len(calls) == 2  # asked again each time: a new tenant shows up at once
    # other tables and the rows themselves are left alone
    other = labelled_values(crud_at("/api/tables/entry"), {"other": {"tenant_id": labels}})
    plain = await get_schema(other, "/api/tables/entry/schema/")
    assert plain["properties"]["tenant_id"]["extra"]["choices"] is None
