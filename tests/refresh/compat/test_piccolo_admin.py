"""refresh/compat/piccolo_admin.py: a filter on a column with choices matches the choice;
the forms leave out a pinned column and show bookkeeping last.

The first test watches piccolo-api: it still filters text by substring unless told
`__match=exact` (the reason for the adaptation), and it honours `__match=exact` (what the
adaptation relies on). The others check the adaptation itself.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from piccolo.columns import Varchar
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import PiccoloCRUD
from starlette.responses import JSONResponse

from apps.tasks.tables import TaskStatus
from refresh.compat.piccolo_admin import (
    adjusted_schema,
    choice_columns,
    exact_choice_filters,
    form_adjustments,
    with_exact_matches,
)
from refresh.db.clients import write_client


class Chore(Table):
    status = Varchar(length=16, choices=TaskStatus)
    title = Varchar(length=50)


async def rows(app: Any, query: str) -> list[str]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(f"/api/tables/chore/?{query}")
    assert response.status_code == 200, response.text
    return sorted(row["status"] for row in response.json()["rows"])


async def test_piccolo_api_matches_substrings_unless_told_exact(app: Any) -> None:
    await write_client.fetch("create table chore (id serial primary key, status text, title text)")
    try:
        await write_client.fetch(
            "insert into chore (status, title) values ('done', 'a'), ('todo', 'b')"
        )
        crud = PiccoloCRUD(table=Chore, read_only=True)

        async def at_root(scope: Any, receive: Any, send: Any) -> None:
            path = scope["path"].removeprefix("/api/tables/chore")
            await crud({**scope, "path": path or "/"}, receive, send)

        assert await rows(at_root, "status=do") == ["done", "todo"]  # substring: both
        assert await rows(at_root, "status=do&status__match=exact") == []
        assert await rows(at_root, "status=done&status__match=exact") == ["done"]

        adapted = exact_choice_filters(at_root, [TableConfig(Chore)])
        assert await rows(adapted, "status=do") == []
        assert await rows(adapted, "status=done") == ["done"]
        assert await rows(adapted, "status=o&status__match=contains") == ["done", "todo"]
    finally:
        await write_client.fetch("drop table chore")


def test_only_columns_with_choices_are_made_exact() -> None:
    columns = choice_columns([TableConfig(Chore)])
    assert columns == {"chore": frozenset({"status"})}
    assert with_exact_matches(b"status=do&title=x", columns["chore"]) == (
        b"status=do&title=x&status__match=exact"
    )
    assert with_exact_matches(b"title=x", columns["chore"]) == b"title=x"


# --- form_adjustments: the pinned column and bookkeeping last ------------------------------


async def schema_of(crud: PiccoloCRUD) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=crud)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/schema/")
    assert response.status_code == 200, response.text
    schema: dict[str, Any] = response.json()
    return schema


async def test_piccolo_api_schema_lists_form_fields_as_ordered_properties() -> None:
    """What form_adjustments edits: the fields piccolo-admin's forms show, in order."""
    schema = await schema_of(PiccoloCRUD(table=Chore, read_only=True))
    assert list(schema["properties"]) == ["status", "title"]
    adjusted = adjusted_schema(schema, "status", ["status", "title"])
    assert list(adjusted["properties"]) == ["title"]
    assert "status" not in adjusted.get("required", [])


async def test_the_staff_form_has_no_pinned_field_and_its_post_carries_it() -> None:
    seen: dict[str, Any] = {}

    async def site(scope: Any, receive: Any, send: Any) -> None:
        if scope["method"] == "POST":
            message = await receive()
            seen["body"] = json.loads(message["body"])
            response = JSONResponse({"ok": True}, status_code=201)
        else:
            response = JSONResponse(
                {"properties": {"created_at": {}, "tenant_id": {}, "name": {}},
                 "required": ["tenant_id", "name"]}
            )  # fmt: skip
        await response(scope, receive, send)

    def tenant(scope: Any) -> str:
        return "pinned-tenant"

    wrapped = form_adjustments(site, "tenant_id", tenant, ["created_at"], frozenset({"chore"}))
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        schema = await client.get("/api/tables/chore/schema/")
        assert schema.json() == {
            "properties": {"name": {}, "created_at": {}},
            "required": ["name"],
        }
        assert int(schema.headers["content-length"]) == len(schema.content)
        posted = await client.post("/api/tables/chore/", json={"name": "x", "tenant_id": ""})
        assert posted.status_code == 201
        assert seen["body"] == {"name": "x", "tenant_id": "pinned-tenant"}
        # another table's rows are left alone
        await client.post("/api/tables/other/", json={"name": "y"})
        assert seen["body"] == {"name": "y"}
