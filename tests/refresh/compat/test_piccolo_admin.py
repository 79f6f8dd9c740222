"""refresh/compat/piccolo_admin.py: a filter on a column with choices matches the choice.

The first test watches piccolo-api: it still filters text by substring unless told
`__match=exact` (the reason for the adaptation), and it honours `__match=exact` (what the
adaptation relies on). The others check the adaptation itself.
"""

from __future__ import annotations

from typing import Any

import httpx
from piccolo.columns import Varchar
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import PiccoloCRUD

from apps.tasks.tables import TaskStatus
from refresh.compat.piccolo_admin import choice_columns, exact_choice_filters, with_exact_matches
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
