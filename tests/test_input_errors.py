"""Bad input at the HTTP boundary: each case gets its status and a JSON error naming the
field, nothing is written, and no request of any shape gets a 5xx."""

from __future__ import annotations

import pytest

from settings import get_settings
from tests.apps.tasks.support import (
    assert_error,
    error_fields,
    fresh_tenant,
    member_id,
    new_project,
    new_task,
    table_counts,
)


async def make_rows(client, tenant):
    """One row of each kind in `tenant`, by id."""
    project = await new_project(client, tenant, "Inputs")
    task = await new_task(client, tenant, project["id"], title="Input target")
    comment = await client.post(
        f"/api/tasks/{task['id']}/comments", json={"body": "c"}, headers=tenant.headers
    )
    return {
        "project": project["id"],
        "task": task["id"],
        "comment": comment.json()["id"],
        "member": await member_id(tenant, f"{tenant.slug}-member"),
    }


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors):
    """Hostile input never reaches the error log: nothing here is a server fault."""


@pytest.fixture
async def rows(client, tenant_a):
    return await make_rows(client, tenant_a)


def body_endpoints(rows):
    """(method, path, a valid body) for every endpoint that takes a body."""
    return [
        ("POST", "/api/members", {"user_id": "u1", "email": "u1@x.test", "display_name": "U"}),
        ("PATCH", f"/api/members/{rows['member']}", {"display_name": "U"}),
        ("POST", "/api/projects", {"name": "P"}),
        ("PATCH", f"/api/projects/{rows['project']}", {"name": "P"}),
        ("POST", "/api/tasks", {"project_id": rows["project"], "title": "T"}),
        ("PATCH", f"/api/tasks/{rows['task']}", {"title": "T"}),
        ("POST", "/api/tasks/bulk-update", {"ids": [rows["task"]], "set": {"title": "T"}}),
        ("POST", f"/api/tasks/{rows['task']}/comments", {"body": "B"}),
        ("PATCH", f"/api/tasks/{rows['task']}/comments/{rows['comment']}", {"body": "B"}),
    ]


def admin(tenant):
    return {"Authorization": f"Bearer {tenant.admin_token}"}


async def test_unknown_body_fields_are_named(client, tenant_a, rows):
    before = await table_counts()
    for method, path, body in body_endpoints(rows):
        response = await client.request(
            method, path, json={**body, "colour": "red", "tenant_id": "x"}, headers=admin(tenant_a)
        )
        assert_error(response, 422, "validation_error")
        assert error_fields(response) == {"colour", "tenant_id"}, path
    nested = await client.post(
        "/api/tasks/bulk-update",
        json={"ids": [rows["task"]], "set": {"title": "T", "owner": "me"}},
        headers=tenant_a.headers,
    )
    assert error_fields(nested) == {"set.owner"}
    assert await table_counts() == before


TASK_FIELD_ERRORS = [
    ({"priority": 0}, "priority"),
    ({"priority": 6}, "priority"),
    ({"priority": "high"}, "priority"),
    ({"priority": 2.5}, "priority"),
    ({"title": "x" * 201}, "title"),
    ({"title": "   "}, "title"),
    ({"title": 5}, "title"),
    ({"description": "x" * 10_001}, "description"),
    ({"status": "blocked"}, "status"),
    ({"tags": ["has space"]}, "tags.0"),
    ({"tags": ["ok", "a,b"]}, "tags.1"),
    ({"tags": "single"}, "tags"),
    ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
    ({"due_at": "2026-01-01T09:00:00"}, "due_at"),
    ({"due_at": "next tuesday"}, "due_at"),
    ({"due_at": 1700000000}, "due_at"),
    ({"due_at": "1700000000"}, "due_at"),
    # seconds since 1970 in the other shapes lax parsing reads, and a date alone
    ({"due_at": "1700000000.0"}, "due_at"),
    ({"due_at": "+1700000000"}, "due_at"),
    ({"due_at": "1.7e9"}, "due_at"),
    ({"due_at": "2026-12-01"}, "due_at"),
    # the two instants asyncpg would store as -infinity and infinity, and one past the
    # last day once in UTC (year 10000)
    ({"due_at": "0001-01-01T00:00:00Z"}, "due_at"),
    ({"due_at": "9999-12-31T23:59:59.999999Z"}, "due_at"),
    ({"due_at": "9999-12-31T23:00:00-14:00"}, "due_at"),
    ({"title": "a\x00b"}, "title"),
    ({"tags": ["ok", "b\x00"]}, "tags"),
    ({"assignee_id": 5}, "assignee_id"),
    ({"project_id": "not-a-uuid"}, "project_id"),
]


@pytest.mark.parametrize(("change", "field"), TASK_FIELD_ERRORS)
async def test_invalid_task_fields_are_422_with_the_path(client, tenant_a, rows, change, field):
    before = await table_counts()
    create = await client.post(
        "/api/tasks",
        json={"project_id": rows["project"], "title": "T", **change},
        headers=tenant_a.headers,
    )
    assert_error(create, 422, "validation_error")
    assert error_fields(create) == {field}
    patch = await client.patch(f"/api/tasks/{rows['task']}", json=change, headers=tenant_a.headers)
    assert error_fields(patch) == {field}
    bulk = await client.post(
        "/api/tasks/bulk-update",
        json={"ids": [rows["task"]], "set": change},
        headers=tenant_a.headers,
    )
    assert error_fields(bulk) == {f"set.{field}"}
    assert await table_counts() == before


async def test_a_body_over_the_limit_is_413(client, tenant_a, rows):
    limit = get_settings().max_body_bytes
    assert limit == 1_048_576
    big = b'{"name": "' + b"x" * limit + b'"}'
    before = await table_counts()
    headers = {**tenant_a.headers, "content-type": "application/json"}
    declared = await client.post("/api/projects", content=big, headers=headers)
    assert_error(declared, 413, "payload_too_large")

    async def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    streamed = await client.patch(f"/api/tasks/{rows['task']}", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "payload_too_large")
    assert await table_counts() == before
    just_under = b'{"name": "ok", "description": "' + b"x" * 9_000 + b'"}'
    assert len(just_under) < limit
    assert (
        await client.post("/api/projects", content=just_under, headers=headers)
    ).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"{nope",
        b"",
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b"\xff\xfe{",
        b'{"name": ' + b"1" * 5_000 + b"}",  # more digits than Python parses
        b'{"name": "x"} trailing',
    ],
    ids=["broken", "empty", "deep-array", "deep-object", "not-utf8", "huge-int", "trailing"],
)
async def test_invalid_json_is_400(client, tenant_a, raw):
    before = await table_counts()
    response = await client.post(
        "/api/projects",
        content=raw,
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert_error(response, 400, "bad_request")
    assert await table_counts() == before


@pytest.mark.parametrize(
    "raw", [b'{"name": "a\\u0000b"}', b'{"name": "a\\ud800b"}'], ids=["nul", "lone-surrogate"]
)
async def test_text_the_database_cannot_store_is_422(client, tenant_a, raw):
    before = await table_counts()
    response = await client.post(
        "/api/projects",
        content=raw,
        headers={**tenant_a.headers, "content-type": "application/json"},
    )
    assert_error(response, 422)
    assert error_fields(response) == {"name"}  # refused by the model, which names it
    assert await table_counts() == before


async def test_a_body_of_thousands_of_unknown_fields_lists_the_first_twenty(client, tenant_a):
    before = await table_counts()
    body = {"name": "P", **{f"extra{i}": i for i in range(5_000)}}
    response = await client.post("/api/projects", json=body, headers=admin(tenant_a))
    assert_error(response, 422, "validation_error")
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details[:20]] == [f"extra{i}" for i in range(20)]
    assert details[20:] == [{"field": "", "message": "and 4980 more, not listed"}]
    assert len(response.content) < 4_000
    assert await table_counts() == before


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"],
)
async def test_a_body_that_is_not_json_is_415(client, tenant_a, content_type):
    headers = dict(tenant_a.headers)
    if content_type:
        headers["content-type"] = content_type
    response = await client.post("/api/projects", content=b'{"name": "P"}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


async def test_json_with_a_charset_is_accepted(client, tenant_a):
    response = await client.post(
        "/api/projects",
        content=b'{"name": "charset"}',
        headers={**tenant_a.headers, "content-type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_a_malformed_uuid_in_a_path_is_404(client, tenant_a, rows):
    t, c = rows["task"], rows["comment"]
    cases = [
        ("GET", "/api/members/nope"),
        ("PATCH", "/api/members/nope"),
        ("DELETE", "/api/members/nope"),
        ("GET", "/api/projects/nope"),
        ("PATCH", "/api/projects/123"),
        ("DELETE", "/api/projects/nope"),
        ("GET", "/api/projects/nope/stats"),
        ("GET", "/api/tasks/nope"),
        ("PATCH", f"/api/tasks/{t}x"),
        ("DELETE", "/api/tasks/nope"),
        ("GET", "/api/tasks/nope/comments"),
        ("POST", "/api/tasks/nope/comments"),
        ("PATCH", f"/api/tasks/{t}/comments/nope"),
        ("PATCH", f"/api/tasks/nope/comments/{c}"),
        ("DELETE", f"/api/tasks/{t}/comments/nope"),
    ]
    before = await table_counts()
    for method, path in cases:
        body = {"body": "b"} if "comments" in path else {"name": "n", "display_name": "d"}
        if method in ("GET", "DELETE"):
            body = None
        if method == "PATCH" and "/tasks/" in path and "comments" not in path:
            body = {"title": "t"}
        response = await client.request(method, path, json=body, headers=admin(tenant_a))
        assert_error(response, 404, "not_found")
    assert await table_counts() == before


async def test_unknown_query_parameters_are_422(client, tenant_a, rows):
    before = await table_counts()
    for path in ("/api/tasks", "/api/projects", "/api/members"):
        response = await client.get(path, params={"sortt": "x"}, headers=tenant_a.headers)
        assert_error(response, 422, "validation_error")
        assert error_fields(response) == {"sortt"}
    # also where no query parameter exists: a typo is never silently ignored
    for method, path in [
        ("GET", "/api/tenant"),
        ("GET", f"/api/tasks/{rows['task']}"),
        ("GET", f"/api/projects/{rows['project']}/stats"),
        ("DELETE", f"/api/projects/{rows['project']}"),
        ("DELETE", f"/api/tasks/{rows['task']}/comments/{rows['comment']}"),
    ]:
        response = await client.request(
            method, path, params={"cascade": "false"}, headers=admin(tenant_a)
        )
        assert_error(response, 422, "validation_error")
        assert error_fields(response) == {"cascade"}
    assert await table_counts() == before


@pytest.mark.parametrize(
    "query", ["limit=1&limit=2", "sort=due_at&sort=priority&limit=5", "q=a&q=b"]
)
async def test_a_one_value_parameter_given_twice_is_422(client, tenant_a, query):
    """Which one was meant? Not the last one silently; a list filter may repeat."""
    response = await client.get(f"/api/tasks?{query}", headers=tenant_a.headers)
    assert_error(response, 422, "validation_error")
    [field] = error_fields(response)
    assert query.count(f"{field}=") == 2
    listed = await client.get("/api/tasks?status=todo&status=done", headers=tenant_a.headers)
    assert listed.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"tag": "a\x00b"},
        {"status": "todo\x00"},
        {"due_before": "2026-13-01"},
        {"due_before": "1700000000"},
        {"due_after": "0"},
        {"due_after": "-1"},
        {"due_before": "9999-12-31T23:59:59.999999Z"},
        {"limit": "1.0"},
        {"limit": "1_0"},
        {"limit": " 5"},
        {"priority_min": "4.0"},
        {"priority_max": "0x4"},
    ],
)
async def test_query_values_the_database_cannot_take_are_422(client, tenant_a, params):
    response = await client.get("/api/tasks", params=params, headers=tenant_a.headers)
    assert_error(response, 422)
    # the model names the parameter (status is a list: its first item)
    assert {f.split(".")[0] for f in error_fields(response)} == set(params)


@pytest.mark.parametrize("path", ["/api/tasks", "/api/projects", "/api/tasks/{task}/comments"])
async def test_a_limit_in_decimal_digits_is_taken(client, tenant_a, rows, path):
    """`limit=1.0` and `1_0` are refused (above); digits, a sign or leading zeros are a number."""
    url = path.format(task=rows["task"])
    for limit in ("1", "+1", "01"):
        response = await client.get(url, params={"limit": limit}, headers=tenant_a.headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 1
    response = await client.get(url, params={"limit": "1_0"}, headers=tenant_a.headers)
    assert_error(response, 422, "validation_error")
    assert "decimal digits" in response.text


async def test_no_request_is_answered_with_a_5xx(client, tenant_b):
    """A sweep of odd requests over every endpoint; each answer is a JSON error or success.
    It deletes what it may, so it runs in a tenant of its own."""
    tenant = await fresh_tenant("sweep")
    rows = await make_rows(client, tenant)
    odd_bodies = [None, b"null", b"[]", b"{}", b'"x"', b"0", b'{"ids": null}', b"\x00"]
    paths = {path for _, path, _ in body_endpoints(rows)} | {
        "/api/tenant",
        f"/api/projects/{rows['project']}/stats",
        f"/api/tasks/{rows['task']}",
        "/api/nowhere",
    }
    for headers in (tenant.headers, admin(tenant), tenant_b.headers, {}):
        for path in sorted(paths):
            for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
                for raw in odd_bodies if method in ("POST", "PATCH", "PUT") else [None]:
                    response = await client.request(
                        method,
                        path,
                        content=raw,
                        headers={**headers, "content-type": "application/json"},
                    )
                    assert response.status_code < 500, (method, path, raw, response.text)
                    if response.status_code >= 400:
                        assert_error(response, response.status_code)


@pytest.mark.parametrize("priority", [True, False, 2.5, "3"])
async def test_a_priority_must_be_an_integer_not_a_boolean(client, tenant_a, rows, priority):
    """Strict types: lax validation stored JSON `true` as priority 1."""
    before = await table_counts()
    task = rows["task"]
    for method, path, body in [
        ("POST", "/api/tasks", {"project_id": rows["project"], "title": "T", "priority": priority}),
        ("PATCH", f"/api/tasks/{task}", {"priority": priority}),
        ("POST", "/api/tasks/bulk-update", {"ids": [task], "set": {"priority": priority}}),
    ]:
        response = await client.request(method, path, json=body, headers=tenant_a.headers)
        assert_error(response, 422, "validation_error")
    assert await table_counts() == before
