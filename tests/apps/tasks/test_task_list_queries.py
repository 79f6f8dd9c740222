"""GET /api/tasks: every filter alone and combined, every sort order, and the whole list
in one SQL statement. Expected results come from the seed description (conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apps.tasks import schemas
from apps.tasks.tables import Task
from refresh.db.clients import write_client
from tests.apps.tasks.conftest import BASE, Seeded
from tests.apps.tasks.support import expected_order, walk


async def fetch_ids(client: Any, seeded: Seeded, params: dict[str, Any]) -> list[str]:
    return await walk(client, seeded.tenant, params, limit=200)


def text_match(q: str):
    return lambda r: q.lower() in r["title"].lower() or q.lower() in r["description"].lower()


def filter_cases(s: Seeded) -> list[tuple[str, dict[str, Any], Any]]:
    """(name, query parameters, the predicate the result set must equal)."""
    ann, ben = s.members
    apollo, borealis = s.projects
    cut = BASE + timedelta(days=5, hours=3)
    early = BASE + timedelta(days=2, hours=3)
    return [
        ("one status", {"status": "done"}, lambda r: r["status"] == "done"),
        (
            "statuses repeated",
            {"status": ["todo", "done"]},
            lambda r: r["status"] in ("todo", "done"),
        ),
        ("statuses comma", {"status": "todo,done"}, lambda r: r["status"] in ("todo", "done")),
        (
            "three statuses",
            {"status": ["todo,in_progress", "archived"]},
            lambda r: r["status"] != "done",
        ),
        ("priority_min", {"priority_min": 4}, lambda r: r["priority"] >= 4),
        ("priority_max", {"priority_max": 2}, lambda r: r["priority"] <= 2),
        (
            "priority range",
            {"priority_min": 2, "priority_max": 4},
            lambda r: 2 <= r["priority"] <= 4,
        ),
        ("priority empty range", {"priority_min": 5, "priority_max": 1}, lambda r: False),
        ("assignee", {"assignee": ann}, lambda r: r["assignee_id"] == ann),
        ("assignee none", {"assignee": "none"}, lambda r: r["assignee_id"] is None),
        (
            "due_before",
            {"due_before": cut.isoformat()},
            lambda r: r["due_at"] is not None and r["due_at"] < cut,
        ),
        (
            "due_after",
            {"due_after": cut.isoformat()},
            lambda r: r["due_at"] is not None and r["due_at"] > cut,
        ),
        (
            "due window",
            {"due_after": early.isoformat(), "due_before": cut.isoformat()},
            lambda r: r["due_at"] is not None and early < r["due_at"] < cut,
        ),
        ("q any case", {"q": "alpha"}, text_match("alpha")),
        ("q upper", {"q": "ALPHA"}, text_match("alpha")),
        ("q in description only", {"q": "INSIDE"}, text_match("inside")),
        ("q percent is literal", {"q": "%"}, text_match("%")),
        ("q 0% is literal", {"q": "0%"}, text_match("0%")),
        ("q underscore is literal", {"q": "_"}, text_match("_")),
        ("q e_c is literal", {"q": "e_c"}, text_match("e_c")),
        ("q a_b is literal", {"q": "a_b"}, text_match("a_b")),
        ("q backslash is literal", {"q": "\\"}, text_match("\\")),
        ("q nothing", {"q": "zzz-nowhere"}, lambda r: False),
        ("tag", {"tag": "red"}, lambda r: "red" in r["tags"]),
        ("tag unknown", {"tag": "purple"}, lambda r: False),
        ("project", {"project": borealis}, lambda r: r["project_id"] == borealis),
        (
            "status priority assignee tag",
            {
                "status": "todo,in_progress",
                "priority_min": 3,
                "assignee": ben,
                "tag": "red",
            },
            lambda r: (
                r["status"] in ("todo", "in_progress")
                and r["priority"] >= 3
                and r["assignee_id"] == ben
                and "red" in r["tags"]
            ),
        ),
        (
            "q project due_after unassigned",
            {"q": "a", "project": apollo, "due_after": early.isoformat(), "assignee": "none"},
            lambda r: (
                text_match("a")(r)
                and r["project_id"] == apollo
                and r["due_at"] is not None
                and r["due_at"] > early
                and r["assignee_id"] is None
            ),
        ),
        (
            "every filter",
            {
                "status": ["todo", "done", "archived"],
                "priority_max": 4,
                "assignee": ann,
                "due_after": early.isoformat(),
                "q": "E",
                "tag": "red",
                "project": apollo,
            },
            lambda r: (
                r["status"] != "in_progress"
                and r["priority"] <= 4
                and r["assignee_id"] == ann
                and r["due_at"] is not None
                and r["due_at"] > early
                and text_match("e")(r)
                and "red" in r["tags"]
                and r["project_id"] == apollo
            ),
        ),
    ]


FILTER_NAMES = [case[0] for case in filter_cases(Seeded(None, ["p", "p"], ["m", "m"]))]


@pytest.mark.parametrize("name", FILTER_NAMES)
async def test_filter(client, seeded, name):
    _, params, predicate = next(c for c in filter_cases(seeded) if c[0] == name)
    expected = seeded.ids(predicate)
    got = await fetch_ids(client, seeded, params)
    assert set(got) == expected


async def test_the_filters_are_not_vacuous(seeded):
    """Each non-empty case selects some rows but not all, so a filter that is ignored fails."""
    for name, _, predicate in filter_cases(seeded):
        selected = seeded.ids(predicate)
        assert len(selected) < len(seeded.rows), name
        if "nothing" not in name and "unknown" not in name and "empty" not in name:
            assert selected, name


async def test_no_filter_lists_exactly_the_tenants_tasks(client, seeded):
    owned = await write_client.run(Task.select(Task.id).where(Task.tenant_id == seeded.tenant.id))
    assert set(await fetch_ids(client, seeded, {})) == {str(r["id"]) for r in owned}
    assert len(owned) == len(seeded.rows) == 60


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", ["created_at", "due_at", "priority"])
async def test_sort_order(client, seeded, sort, order):
    got = await fetch_ids(client, seeded, {"sort": sort, "order": order})
    assert got == expected_order(seeded.rows, sort, order)


async def test_default_sort_is_newest_first(client, seeded):
    got = await fetch_ids(client, seeded, {})
    assert got == expected_order(seeded.rows, "created_at", "desc")


async def test_sorted_and_filtered(client, seeded):
    params = {"sort": "priority", "order": "asc", "status": "todo,done", "tag": "red"}
    rows = [r for r in seeded.rows if r["status"] in ("todo", "done") and "red" in r["tags"]]
    assert await fetch_ids(client, seeded, params) == expected_order(rows, "priority", "asc")


@pytest.fixture
def statements(monkeypatch):
    """The SQL each request transaction sends, recorded with asyncpg's query logger."""
    from refresh.db.transaction import RequestTransaction

    queries: list[str] = []

    def record(logged: Any) -> None:
        queries.append(logged.query)

    original_begin, original_exit = RequestTransaction.begin, RequestTransaction.__aexit__

    async def begin(self):
        await original_begin(self)
        self.connection.add_query_logger(record)

    async def exit_(self, *exc_info):
        # Before the connection goes back to the pool, where the logger would stay.
        self.connection.remove_query_logger(record)
        return await original_exit(self, *exc_info)

    monkeypatch.setattr(RequestTransaction, "begin", begin)
    monkeypatch.setattr(RequestTransaction, "__aexit__", exit_)
    return queries


async def test_the_list_is_one_sql_statement(client, seeded, statements):
    params = {
        "status": "todo,in_progress,done",
        "q": "a",
        "tag": "red",
        "assignee": seeded.members[0],
        "sort": "due_at",
        "limit": 3,
    }
    first = await client.get("/api/tasks", params=params, headers=seeded.tenant.headers)
    assert first.status_code == 200
    statements.clear()
    params["cursor"] = first.json()["next_cursor"]
    assert params["cursor"] is not None
    response = await client.get("/api/tasks", params=params, headers=seeded.tenant.headers)
    assert response.status_code == 200, response.text

    data_queries = [q for q in statements if "task" in q.lower()]
    assert len(data_queries) == 1, statements
    query = data_queries[0].lower()
    assert 'from "task"' in query
    assert 'join "project"' in query and 'join "member"' in query
    # nothing else but the filters' planning (custom plans, a search read in index
    # order: test_plan_cache_mode.py) and the transaction's end, sent with the connection
    # reset in one round trip (BEGIN and begin_request ran before logging)
    planning = "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_sort = off"
    rest = [q for q in statements if q not in data_queries]
    assert rest[0] == planning, rest
    assert len(rest) <= 2 and all(q.startswith("COMMIT;") for q in rest[1:]), rest

    names = {r["id"]: r for r in seeded.rows}
    projects = dict(zip(seeded.projects, ("Apollo", "Borealis"), strict=True))
    assignees = dict(zip(seeded.members, ("Ann Assignee", "Ben Assignee"), strict=True))
    data = response.json()["data"]
    assert data
    for task in data:
        schemas.Task.model_validate(task)
        seed = names[task["id"]]
        assert task["project_name"] == projects[seed["project_id"]]
        assert task["assignee_name"] == assignees[seed["assignee_id"]]


async def test_unassigned_tasks_have_no_assignee_name(client, seeded):
    response = await client.get(
        "/api/tasks", params={"assignee": "none", "limit": 5}, headers=seeded.tenant.headers
    )
    data = response.json()["data"]
    assert len(data) == 5
    assert {(t["assignee_id"], t["assignee_name"]) for t in data} == {(None, None)}
