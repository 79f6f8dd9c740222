"""The admin API's own hostile-input catalogue (tests/test_input_errors.py is the API's;
the login's is tests/apps/admin/test_login.py): bodies that are not JSON, not objects,
not Unicode, of the wrong types or too large; malformed ids, tables and list
parameters (the password change and the session cookie: test_admin_hostile_account.py).
Staff of two tenants and operators alike get a JSON 4xx, never a 5xx, and nothing
changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from refresh.db.clients import write_client
from settings import get_settings
from tests.apps.admin.support import (
    AdminSession,
    new_operator,
    new_staff,
    open_session,
)
from tests.apps.tasks.support import assert_error, fresh_tenant, new_project, new_task

TABLES = ("tenant", "member", "project", "task", "comment", "piccolo_user", "staff_profile")


@dataclass
class Side:
    staff: AdminSession
    project: str
    task: str


@dataclass
class World:
    a: Side
    b: Side
    operator: AdminSession

    @property
    def sessions(self) -> list[tuple[AdminSession, Side]]:
        """Who asks, about which tenant's rows: each staff their own, the operator A's."""
        return [(self.a.staff, self.a), (self.b.staff, self.b), (self.operator, self.a)]


@pytest.fixture(scope="module")
async def world(app: Any, client: Any) -> World:
    return await make_world(app, client)


async def make_world(app: Any, client: Any) -> World:
    sides = []
    for name in ("a", "b"):
        tenant = await fresh_tenant(f"hostile-{name}")
        project = (await new_project(client, tenant, f"hostile {name}"))["id"]
        task = (await new_task(client, tenant, project))["id"]
        sides.append(Side(await open_session(app, await new_staff(tenant.id)), project, task))
    return World(sides[0], sides[1], await open_session(app, await new_operator()))


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors: Any) -> None:
    """Nothing here is a server fault."""


async def snapshot() -> dict[str, Any]:
    return {
        table: await write_client.fetch(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as rows"
            f" from {table} t"
        )
        for table in TABLES
    }


def assert_4xx(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = assert_error(response, response.status_code)
    assert "Traceback" not in response.text
    return error


async def raw(session: AdminSession, method: str, path: str, body: bytes, **headers: str) -> Any:
    headers = {"content-type": "application/json", **headers}
    return await session.client.request(method, f"/admin/api{path}", content=body, headers=headers)


NOT_JSON = {
    "broken": b"{nope",
    "deep-array": b"[" * 100_000,
    "deep-object": b'{"a":' * 100_000,
    "not-utf8": b"\xff\xfe{",
    "huge-int": b'{"title": ' + b"1" * 5_000 + b"}",
    "trailing": b'{"title": "x"} trailing',
}


@pytest.mark.parametrize("body", list(NOT_JSON.values()), ids=list(NOT_JSON))
async def test_a_body_that_is_not_json_is_a_4xx(world: World, body: bytes) -> None:
    before = await snapshot()
    for session, side in world.sessions:
        for method, path in (("POST", "/tables/task/"), ("PATCH", f"/tables/task/{side.task}/")):
            assert_4xx(await raw(session, method, path, body))
    assert await snapshot() == before


@pytest.mark.parametrize("body", [b"null", b"[]", b'"x"', b"0", b"true", b"[{}]"])
async def test_a_body_that_is_not_an_object_is_a_4xx(world: World, body: bytes) -> None:
    before = await snapshot()
    for session, side in world.sessions:
        for method, path in (("POST", "/tables/task/"), ("PATCH", f"/tables/task/{side.task}/")):
            assert_4xx(await raw(session, method, path, body))
    assert await snapshot() == before


@pytest.mark.parametrize(
    "body",
    [b'{"title": "a\\u0000b"}', b'{"title": "a\\ud800b"}', b'{"\\udc00": "x"}'],
    ids=["nul", "lone-surrogate", "surrogate-key"],
)
async def test_text_the_database_cannot_store_is_422(world: World, body: bytes) -> None:
    before = await snapshot()
    for session, side in world.sessions:
        for method, path in (("POST", "/tables/task/"), ("PATCH", f"/tables/task/{side.task}/")):
            response = await raw(session, method, path, body)
            assert response.status_code in (400, 422), response.text
            assert_4xx(response)
    assert await snapshot() == before


FIELD_ERRORS = [
    ({"priority": True}, "priority"),
    ({"priority": False}, "priority"),
    ({"priority": "high"}, "priority"),
    ({"priority": 2.5}, "priority"),
    ({"priority": 99_999_999_999}, None),  # beyond the column: the database says no
    ({"title": 5}, "title"),
    ({"title": ["x"]}, "title"),
    ({"title": {"a": 1}}, "title"),
    ({"due_at": "next tuesday"}, "due_at"),
    ({"due_at": "99999-01-01T00:00:00"}, "due_at"),
    ({"tags": "single"}, "tags"),
    ({"project_id": "not-a-uuid"}, "project_id"),
    ({"colour": "red"}, "colour"),
]


def task_body(project: str) -> dict[str, Any]:
    """A complete new task: only the change under test is wrong."""
    return {
        "title": "t",
        "description": "",
        "status": "todo",
        "priority": 3,
        "tags": [],
        "project_id": project,
    }


@pytest.mark.parametrize(("change", "field"), FIELD_ERRORS, ids=[str(c) for c, _ in FIELD_ERRORS])
async def test_a_field_of_the_wrong_type_is_a_4xx_naming_it(
    world: World, change: dict[str, Any], field: str | None
) -> None:
    """Strict types in the admin too: JSON true is not priority 1 (it was saved as 1)."""
    before = await snapshot()
    for session, side in world.sessions:
        for method, path in (("post", "/tables/task/"), ("patch", f"/tables/task/{side.task}/")):
            body = {} if method == "patch" else task_body(side.project)
            body = {**body, **change}
            response = await getattr(session, method)(path, body)
            assert_4xx(response)
            if field is not None:
                assert field in response.text, response.text
    assert await snapshot() == before


async def test_a_number_is_not_a_boolean(world: World) -> None:
    [login_row] = await write_client.fetch(
        "select id from piccolo_user where username = $1", world.a.staff.username
    )
    before = await snapshot()
    for value in (1, 0, "yes", [True]):
        path = f"/tables/piccolo_user/{login_row['id']}/"
        response = await world.operator.patch(path, {"active": value})
        assert "active" in assert_4xx(response)["message"] or response.status_code == 422
    assert await snapshot() == before


async def test_a_body_over_the_limit_is_413(world: World) -> None:
    limit = get_settings().max_body_bytes
    big = b'{"title": "' + b"x" * limit + b'"}'

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    before = await snapshot()
    for session, side in world.sessions:
        path = f"/admin/api/tables/task/{side.task}/"
        headers = {"content-type": "application/json"}
        sized = await session.client.patch(path, content=big, headers=headers)
        streamed = await session.client.patch(path, content=chunks(), headers=headers)
        assert_error(sized, 413, "payload_too_large")
        assert_error(streamed, 413, "payload_too_large")
    assert await snapshot() == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_malformed_ids_and_unknown_tables_are_4xx(world: World, method: str) -> None:
    before = await snapshot()
    paths = [
        "/tables/task/nope/",
        "/tables/task/123/",
        "/tables/task/%00/",
        f"/tables/task/{'9' * 5000}/",
        "/tables/nope/",
        "/tables/nope/1/",
        "/tables/piccolo_user/nope/",
        "/tables/piccolo_user/99999999999999999999/",
        "/forms/nope/",
        "/tables/task/schema/x",
    ]
    for session, _ in world.sessions:
        for path in paths:
            body = b'{"title": "x"}' if method in ("PATCH", "PUT") else b""
            assert_4xx(await raw(session, method, path, body))
    assert await snapshot() == before


BAD_PARAMETERS = [
    {"__page": "abc"},
    {"__page_size": "abc"},
    {"__page_size": "100000"},
    {"priority": "abc"},
    {"priority": "1e400"},
    {"priority": "99999999999"},
    {"due_at": "notadate"},
    {"id": "nope"},
    {"project_id": "nope"},
    {"title": "a\x00b"},
    {"priority__operator": "nope"},
    {"title__match": "nope"},
    {"__readable": "maybe"},
    {"__order": "title;drop table task"},
    {"__visible_fields": "title,(select 1)"},
]


@pytest.mark.parametrize("params", BAD_PARAMETERS, ids=[str(p) for p in BAD_PARAMETERS])
async def test_bad_list_parameters_are_4xx(world: World, params: dict[str, str]) -> None:
    paths = (
        ["/tables/task/"] if "__page_size" in params else ["/tables/task/", "/tables/task/count/"]
    )
    for session, _ in world.sessions:
        for path in paths:  # (the count has no page size to refuse)
            assert_4xx(await session.get(path, **params))


async def test_no_admin_request_is_answered_with_a_5xx(app: Any, client: Any) -> None:
    """A sweep of odd requests over the admin API, for staff, an operator and nobody; each
    answer is a success or a JSON 4xx. It writes what it may, so it has tenants of its own."""
    tenant = await fresh_tenant("hostile-sweep")
    project = (await new_project(client, tenant, "sweep"))["id"]
    task = (await new_task(client, tenant, project))["id"]
    staff = await open_session(app, await new_staff(tenant.id))
    operator = await open_session(app, await new_operator())
    nobody = AdminSession(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://refresh.test"),
        "nobody",
    )
    paths = [
        "/tables/",
        "/tables/task/",
        f"/tables/task/{task}/",
        f"/tables/task/{uuid.uuid4()}/",
        "/tables/task/count/",
        "/tables/task/ids/",
        "/tables/task/schema/",
        "/tables/task/new/",
        f"/tables/project/{project}/",
        "/tables/audit_log/",
        "/tables/grouped/",
        "/forms/",
        "/forms/export-a-tenant/",
        "/forms/erase-a-tenant/",
        "/forms/export-a-tenant/schema/",
        "/change-password/",
        "/user/",
        "/meta/",
        "/nowhere/",
    ]
    odd = [b"", b"null", b"[]", b"{}", b'"x"', b"0", b"\x00", b'{"slug": 1}', b'{"id": []}']
    for session in (staff, operator, nobody):
        for path in paths:
            for method in ("GET", "POST", "PATCH", "PUT"):
                for body in odd if method != "GET" else [b""]:
                    response = await raw(session, method, path, body)
                    assert response.status_code < 500, (method, path, body, response.text)
                    if response.status_code >= 400:
                        assert_error(response, response.status_code)
    await nobody.client.aclose()
