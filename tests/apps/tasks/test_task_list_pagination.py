"""Cursor pagination of GET /api/tasks: limits, walking every page, inserts while walking,
and cursors that are forged or belong to another sort order."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.apps.tasks.conftest import BASE, insert_tasks, seed_projects, task_spec
from tests.apps.tasks.support import assert_error, error_fields, expected_order, fresh_tenant, walk

SORTS = [(s, o) for s in ("created_at", "due_at", "priority") for o in ("asc", "desc")]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "x", "1.5", ""])
async def test_limit_out_of_range_is_422(client, seeded, limit):
    response = await client.get(f"/api/tasks?limit={limit}", headers=seeded.tenant.headers)
    assert_error(response, 422, "validation_error")
    assert error_fields(response) == {"limit"}


@pytest.mark.parametrize("limit", [1, 7, 200])
async def test_limit_is_the_page_size(client, seeded, limit):
    response = await client.get(f"/api/tasks?limit={limit}", headers=seeded.tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == min(limit, 60)
    assert (body["next_cursor"] is None) == (limit >= 60)


async def test_default_limit_is_50(client, seeded):
    first = (await client.get("/api/tasks", headers=seeded.tenant.headers)).json()
    assert len(first["data"]) == 50
    rest = await client.get(
        "/api/tasks", params={"cursor": first["next_cursor"]}, headers=seeded.tenant.headers
    )
    assert len(rest.json()["data"]) == 10
    assert rest.json()["next_cursor"] is None
    order = expected_order(seeded.rows, "created_at", "desc")
    assert [t["id"] for t in first["data"] + rest.json()["data"]] == order


@pytest.mark.parametrize(("sort", "order"), SORTS)
async def test_walking_pages_of_7_visits_every_row_once(client, seeded, sort, order):
    ids = await walk(client, seeded.tenant, {"sort": sort, "order": order}, limit=7)
    assert ids == expected_order(seeded.rows, sort, order)


SHIFTS = (
    -timedelta(hours=2),
    -timedelta(seconds=1),
    timedelta(0),
    timedelta(seconds=1),
    timedelta(hours=2),
)


def around(row: dict[str, Any], i: int) -> dict[str, Any]:
    """The i-th (0..4) of five new rows placed before, at and after `row` in every sort key."""
    due = row["due_at"] or BASE
    return {
        "created_at": row["created_at"] + SHIFTS[i],
        "due_at": None if i in (0, 4) else due + SHIFTS[i] * 12,
        "priority": 1 + i,
    }


@pytest.mark.parametrize(
    ("sort", "order"), [("created_at", "desc"), ("created_at", "asc"), ("due_at", "desc")]
)
async def test_inserts_while_walking_neither_skip_nor_repeat(client, sort, order):
    tenant = await fresh_tenant("walk")
    projects = await seed_projects(tenant, ("Walk",))
    originals = [task_spec(i, projects * 2, [None, None, None]) for i in range(40)]
    await insert_tasks(tenant.id, originals)
    rows = {r["id"]: r for r in originals}
    inserted_after: dict[str, str] = {}  # new id -> the last row seen before it was inserted

    walked: list[str] = []
    cursor = None
    for _ in range(100):
        params = {
            "sort": sort,
            "order": order,
            "limit": 7,
            **({"cursor": cursor} if cursor else {}),
        }
        response = await client.get("/api/tasks", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        walked += [t["id"] for t in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        last = rows[walked[-1]]
        new = [{**task_spec(k, projects * 2, [None] * 3), **around(last, k)} for k in range(5)]
        await insert_tasks(tenant.id, new)
        rows.update({r["id"]: r for r in new})
        inserted_after.update({r["id"]: last["id"] for r in new})
    else:
        pytest.fail("the walk did not end")

    assert len(walked) == len(set(walked)), "a row came twice"
    assert {r["id"] for r in originals} <= set(walked), "a row that existed was skipped"
    # A row inserted ahead of the cursor is reached later; one inserted behind it is not.
    full = expected_order(list(rows.values()), sort, order)
    position = {row_id: i for i, row_id in enumerate(full)}
    ahead = {n for n, seen in inserted_after.items() if position[n] > position[seen]}
    assert ahead and len(ahead) < len(inserted_after)
    behind = set(inserted_after) - ahead
    assert walked == [row_id for row_id in full if row_id not in behind]


def forge(payload: Any) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


SOME_ID = str(uuid.uuid4())
FORGED = {
    "not base64": ("created_at", "***"),
    "empty": ("created_at", ""),
    "not json": ("created_at", base64.urlsafe_b64encode(b"hello there").decode()),
    "json list": ("created_at", forge([1, 2])),
    "json string": ("created_at", forge("v")),
    "json number": ("created_at", forge(7)),
    "missing id": ("created_at", forge({"k": "created_at", "d": True, "v": "2026-01-01"})),
    "id not a string": ("created_at", forge({"k": "created_at", "d": True, "v": "x", "id": 7})),
    "id not a uuid": ("created_at", forge({"k": "created_at", "d": True, "v": "x", "id": "7"})),
    "value not text": ("created_at", forge({"k": "created_at", "d": True, "v": 5, "id": SOME_ID})),
    "value not a time": (
        "created_at",
        forge({"k": "created_at", "d": True, "v": "yesterday-ish", "id": SOME_ID}),
    ),
    "value too long": (
        "created_at",
        forge({"k": "created_at", "d": True, "v": "2026-01-01" + " " * 80, "id": SOME_ID}),
    ),
    "priority not a number": (
        "priority",
        forge({"k": "priority", "d": True, "v": "high", "id": SOME_ID}),
    ),
    "priority beyond int": (
        "priority",
        forge({"k": "priority", "d": True, "v": "99999999999", "id": SOME_ID}),
    ),
    "priority in other digits": (
        "priority",
        forge({"k": "priority", "d": True, "v": "\u0663", "id": SOME_ID}),
    ),
    "priority a fraction": (
        "priority",
        forge({"k": "priority", "d": True, "v": "2.5", "id": SOME_ID}),
    ),
    "too long": ("created_at", "A" * 513),
}


@pytest.mark.parametrize("name", list(FORGED))
async def test_a_forged_cursor_is_422_json(client, seeded, name):
    sort, cursor = FORGED[name]
    response = await client.get(
        "/api/tasks", params={"sort": sort, "cursor": cursor}, headers=seeded.tenant.headers
    )
    assert_error(response, 422)


@pytest.mark.parametrize(
    ("value", "newer_than"),
    [
        ("2026-W09-7", "2026-03-01T00:00:00+00:00"),  # an ISO week date: 1 March 2026
        ("2026-03-01T08:50:00", "2026-03-01T08:50:00+00:00"),  # no offset: UTC
        ("2026-03-01T14:20:00+05:30", "2026-03-01T08:50:00+00:00"),
    ],
)
async def test_a_forged_but_well_formed_cursor_is_served(client, seeded, value, newer_than):
    """Values Python parses but PostgreSQL might not are normalised, never a 500."""
    cursor = forge({"k": "created_at", "d": False, "v": value, "id": SOME_ID})
    response = await client.get(
        "/api/tasks",
        params={"order": "asc", "cursor": cursor, "limit": 200},
        headers=seeded.tenant.headers,
    )
    assert response.status_code == 200, response.text
    newer = [
        r
        for r in seeded.rows
        if (r["created_at"].isoformat(), uuid.UUID(r["id"])) > (newer_than, uuid.UUID(SOME_ID))
    ]
    assert [t["id"] for t in response.json()["data"]] == expected_order(newer, "created_at", "asc")


@pytest.mark.parametrize(
    ("made_with", "used_with"),
    [
        ({"sort": "priority"}, {"sort": "created_at"}),
        ({"sort": "created_at"}, {"sort": "due_at"}),
        ({"sort": "due_at", "order": "asc"}, {"sort": "due_at", "order": "desc"}),
        ({"sort": "created_at", "order": "desc"}, {"sort": "created_at", "order": "asc"}),
    ],
)
async def test_a_cursor_of_another_sort_order_is_422(client, seeded, made_with, used_with):
    first = await client.get(
        "/api/tasks", params={**made_with, "limit": 5}, headers=seeded.tenant.headers
    )
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    response = await client.get(
        "/api/tasks", params={**used_with, "cursor": cursor}, headers=seeded.tenant.headers
    )
    error = assert_error(response, 422)
    assert "cursor" in error["message"]
