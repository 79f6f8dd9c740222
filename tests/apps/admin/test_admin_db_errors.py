"""Every way the database refuses an admin write (unique, foreign key, check, not-null,
a value it cannot store, a missing grant, a row-level security policy), for tenant staff
of two tenants and for operators: the API's status, code and words, never a constraint,
table, column or row; and nothing changes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.support import (
    PASSWORD,
    AdminSession,
    new_operator,
    new_staff,
    open_session,
    unique,
)
from tests.apps.tasks.support import assert_error, fresh_tenant, new_project, new_task
from tests.conftest import TenantFixture
from tests.database import superuser_sql, test_database

TABLES = ("tenant", "member", "project", "task", "comment", "piccolo_user", "staff_profile")
# What PostgreSQL's messages name, and what none of the admin's own messages says.
LEAKS = (
    "Failing row",
    *"violates constraint relation DETAIL pbkdf2 _pkey _key _fkey _check _unique".split(),
    *"_same_tenant project task comment member piccolo_user staff_profile".split(),
    *"description title Traceback".split(),
)


@dataclass
class Side:
    tenant: TenantFixture
    staff: AdminSession
    project: str
    task: str
    member_user: str


@dataclass
class World:
    a: Side
    b: Side
    operator: AdminSession
    staff_login_id: int  # a login that is some tenant's staff already


async def make_side(app: Any, client: Any, prefix: str) -> Side:
    tenant = await fresh_tenant(prefix)
    project = (await new_project(client, tenant, f"{prefix} project"))["id"]
    task = (await new_task(client, tenant, project))["id"]
    staff = await open_session(app, await new_staff(tenant.id))
    return Side(tenant, staff, project, task, f"{tenant.slug}-member")


@pytest.fixture(scope="module")
async def world(app: Any, client: Any) -> AsyncIterator[World]:
    a, b = await make_side(app, client, "dberr-a"), await make_side(app, client, "dberr-b")
    [row] = await write_client.fetch(
        "select u.id from piccolo_user u join staff_profile s on s.user_id = u.id"
        " where u.username = $1",
        a.staff.username,
    )
    yield World(a, b, await open_session(app, await new_operator()), row["id"])


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors: Any) -> None:
    """Nothing here is a server fault."""


async def snapshot() -> dict[str, Any]:
    """Every row of the tables an admin write can reach, as text: all tenants."""
    return {
        table: await write_client.fetch(
            f"select count(*) as n, md5(coalesce(string_agg(t::text, '|' order by t::text),"
            f" '')) as rows from {table} t"
        )
        for table in TABLES
    }


def assert_mapped(response: Any, status: int, code: str) -> None:
    error = assert_error(response, status, code)
    said = f"{error['message']} {response.json().get('detail', '')}"
    for leak in LEAKS:
        assert leak not in said, response.text


Request = Callable[[World, Side, Side], "tuple[str, str, Any]"]

# (name, request as (method, path, body) from (world, side, other side), status, code)
STAFF_CASES: list[tuple[str, Request, int, str]] = [
    (
        "unique: a member's user id taken in the tenant",
        lambda w, s, o: (
            "post",
            "/tables/member/",
            {"user_id": s.member_user, "email": "x@x.test", "display_name": "X", "role": "member"},
        ),
        409,
        "conflict",
    ),
    (
        "foreign key: a task under the other tenant's project",
        lambda w, s, o: ("post", "/tables/task/", new_task_body(o.project)),
        422,
        "not_found",
    ),
    (
        "foreign key: a task under an unused project id",
        lambda w, s, o: ("post", "/tables/task/", new_task_body(str(uuid.uuid4()))),
        422,
        "not_found",
    ),
    (
        "check: priority out of range",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 9}),
        422,
        "validation_error",
    ),
    (
        "check: an unknown status",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"status": "weird"}),
        422,
        "validation_error",
    ),
    (
        "check: a blank title",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": "   "}),
        422,
        "validation_error",
    ),
    (
        "not-null: a title set to null",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": None}),
        422,
        "validation_error",
    ),
    (
        "not-null: a task without its description",
        lambda w, s, o: ("post", "/tables/task/", {"title": "t", "project_id": s.project}),
        422,
        "validation_error",
    ),
    (
        "not-null: a project without a name",
        lambda w, s, o: ("post", "/tables/project/", {}),
        422,
        "validation_error",
    ),
    (
        "data: a NUL character",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": "a\x00b"}),
        422,
        "validation_error",
    ),
    (
        "data: a number beyond the column",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 99_999_999_999}),
        422,
        "validation_error",
    ),
    (
        "a row never changes tenant",
        lambda w, s, o: ("patch", f"/tables/project/{s.project}/", {"tenant_id": str(o.tenant.id)}),
        422,
        "validation_error",
    ),
    (
        "grant: staff cannot rename their tenant",
        lambda w, s, o: ("patch", f"/tables/tenant/{s.tenant.id}/", {"name": "renamed"}),
        403,
        "forbidden",
    ),
    (
        "grant: staff cannot delete their tenant",
        lambda w, s, o: ("delete", f"/tables/tenant/{s.tenant.id}/", None),
        403,
        "forbidden",
    ),
    (
        "grant: staff cannot add a tenant",
        lambda w, s, o: ("post", "/tables/tenant/", {"slug": unique("t"), "name": "T"}),
        403,
        "forbidden",
    ),
]

OPERATOR_CASES: list[tuple[str, Request, int, str]] = [
    (
        "unique: a tenant slug taken",
        lambda w, s, o: ("post", "/tables/tenant/", {"slug": s.tenant.slug, "name": "Again"}),
        409,
        "conflict",
    ),
    (
        "unique: a login that is staff already",
        lambda w, s, o: (
            "post",
            "/tables/staff_profile/",
            {"user_id": w.staff_login_id, "tenant_id": str(o.tenant.id)},
        ),
        409,
        "conflict",
    ),
    (
        "unique: a username taken, creating a login",
        lambda w, s, o: ("post", "/tables/piccolo_user/", new_login_body(s.staff.username)),
        409,
        "conflict",
    ),
    (
        "unique: a username taken, renaming a login",
        lambda w, s, o: (
            "patch",
            f"/tables/piccolo_user/{w.staff_login_id}/",
            {"username": o.staff.username},
        ),
        409,
        "conflict",
    ),
    (
        "not-null: a login without its flags",
        lambda w, s, o: (
            "post",
            "/tables/piccolo_user/",
            {"username": unique("u"), "password": PASSWORD, "email": "u@x.test"},
        ),
        422,
        "validation_error",
    ),
    (
        "foreign key: staff of an unknown login",
        lambda w, s, o: (
            "post",
            "/tables/staff_profile/",
            {"user_id": 2_000_000_000, "tenant_id": str(s.tenant.id)},
        ),
        422,
        "not_found",
    ),
    (
        "foreign key: a task of one tenant under the other's project",
        lambda w, s, o: (
            "post",
            "/tables/task/",
            {**new_task_body(o.project), "tenant_id": str(s.tenant.id)},
        ),
        422,
        "not_found",
    ),
    (
        "check: priority out of range",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 0}),
        422,
        "validation_error",
    ),
    (
        "a row never changes tenant",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"tenant_id": str(o.tenant.id)}),
        422,
        "validation_error",
    ),
]


def new_task_body(project: str) -> dict[str, Any]:
    return {
        "title": "t",
        "description": "",
        "status": "todo",
        "tags": [],
        "project_id": project,
        "priority": 3,
    }


def new_login_body(username: str) -> dict[str, Any]:
    return {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@x.test",
        "active": True,
        "admin": True,
        "superuser": False,
    }


async def send(session: AdminSession, method: str, path: str, body: Any) -> Any:
    if method == "delete":
        return await session.delete(path)
    return await getattr(session, method)(path, body)


@pytest.mark.parametrize(
    ("name", "request_", "status", "code"), STAFF_CASES, ids=[c[0] for c in STAFF_CASES]
)
async def test_staff_of_either_tenant_get_the_apis_words(
    world: World, name: str, request_: Request, status: int, code: str
) -> None:
    for side, other in ((world.a, world.b), (world.b, world.a)):
        before = await snapshot()
        method, path, body = request_(world, side, other)
        assert_mapped(await send(side.staff, method, path, body), status, code)
        assert await snapshot() == before, name


@pytest.mark.parametrize(
    ("name", "request_", "status", "code"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES]
)
async def test_operators_get_the_apis_words(
    world: World, name: str, request_: Request, status: int, code: str
) -> None:
    before = await snapshot()
    method, path, body = request_(world, world.a, world.b)
    assert_mapped(await send(world.operator, method, path, body), status, code)
    assert await snapshot() == before, name


@pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="the refusal is a restrictive policy, which Citus re-creates as permissive on "
    "its shards (DESIGN.md, Policies)",
)
async def test_a_row_level_security_refusal_is_a_403_in_the_apis_words(world: World) -> None:
    """No admin form reaches one today (staff rows are pinned to their tenant): a
    restrictive policy added for the test stands for any policy saying no."""
    superuser_sql(
        test_database(),
        "create policy zz_refuse on project as restrictive for insert to authenticated"
        " with check (name <> 'refused by policy')",
    )
    try:
        for side in (world.a, world.b):
            before = await snapshot()
            response = await side.staff.post("/tables/project/", {"name": "refused by policy"})
            assert_mapped(response, 403, "forbidden")
            assert await snapshot() == before
    finally:
        superuser_sql(test_database(), "drop policy zz_refuse on project")
