"""Every way the database refuses an admin write (unique, foreign key, check, not-null,
a value it cannot store, a missing grant, a row-level security policy), for tenant staff
of two tenants and for operators: the API's status, code and words, never a constraint,
table, column or row; and nothing changes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.db_error_cases import (
    OPERATOR_CASES,
    STAFF_CASES,
    Request,
    Side,
    World,
)
from tests.apps.admin.support import (
    AdminSession,
    new_operator,
    new_staff,
    open_session,
)
from tests.apps.tasks.support import assert_error, fresh_tenant, new_project, new_task
from tests.database import superuser_sql, test_database

TABLES = ("tenant", "member", "project", "task", "comment", "piccolo_user", "staff_profile")
# What PostgreSQL's messages name, and what none of the admin's own messages says.
LEAKS = (
    "Failing row",
    *"violates constraint relation DETAIL pbkdf2 _pkey _key _fkey _check _unique".split(),
    *"_same_tenant project task comment member piccolo_user staff_profile".split(),
    *"description title Traceback".split(),
)


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
