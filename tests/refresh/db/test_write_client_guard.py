"""The write client cannot be used by a request by accident (issue #12, mistake 2): inside
a request transaction it refuses, loudly, unless the code says why (`outside_request`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from refresh.db.clients import write_client
from refresh.db.scope import WriteClientInRequest


async def own_count_beside_a_project_of_b(tenant_a: Any, tenant_b: Any, name: str) -> Any:
    """B gets one more project (written as the admin role); A's own count, as a row."""
    await write_client.fetch(
        "insert into project (id, tenant_id, name, description)"
        " values (gen_random_uuid(), $1, $2, '')",
        tenant_b.id,
        name,
    )
    count = "select count(*) as n from project where tenant_id = $1"
    (own,) = await write_client.fetch(count, tenant_a.id)
    return own


async def test_a_handler_using_the_write_client_fails_and_sees_nothing(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="refresh")
    response = await client.get("/api/_test/write-client", headers=tenant_a.headers)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal server error"}
    }
    logged = "\n".join(str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert "the write client bypasses RLS and was used while a tenant's request is served" in (
        logged
    )
    assert 'wrap it in `with write_client.outside_request("why"):`' in logged


async def test_on_purpose_it_runs_and_says_why(client: Any, tenant_a: Any) -> None:
    response = await client.get("/api/_test/write-client-on-purpose", headers=tenant_a.headers)
    assert response.status_code == 200
    assert response.json()["tenants"] >= 1


async def test_outside_a_request_it_runs(app: Any) -> None:
    assert (await write_client.fetch("select 1 as one")) == [{"one": 1}]


def test_a_reason_is_required() -> None:
    with pytest.raises(ValueError, match="say why"), write_client.outside_request(""):
        pass


async def test_the_guard_is_the_write_clients_own(app: Any) -> None:
    from apps.projects.tables import Project
    from refresh.db.claims import Channel, build_claims
    from refresh.db.engines import READ_DB
    from refresh.db.transaction import RequestTransaction
    from settings import get_settings

    claims = build_claims(  # no tenant, no member: the membership check is not the point
        {"sub": "x", "tenant_id": "00000000-0000-4000-8000-000000000000"},
        Channel.api,
        check_membership=False,
    )
    async with RequestTransaction(READ_DB, claims, get_settings().authenticated_role, True):
        with pytest.raises(WriteClientInRequest):
            await write_client.run(Project.count())
        with pytest.raises(WriteClientInRequest):
            write_client.transaction()
    assert await write_client.run(Project.count()) >= 0  # and after the request, again


async def test_the_write_engine_refuses_in_an_api_request_however_it_is_reached(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    """Not only through write_client: a table class bound to the write engine, a query
    sent to its node, the engine itself. Each would have read tenant B's rows inside
    tenant A's request."""
    from piccolo.apps.user.tables import BaseUser

    from apps.projects.tables import Project
    from refresh.compat.piccolo_frozen import FrozenWithParams, Param
    from refresh.db.claims import Channel, build_claims
    from refresh.db.engines import READ_DB, WRITE_DB, WRITE_NODE
    from refresh.db.transaction import RequestTransaction
    from settings import get_settings

    claims = build_claims({"sub": "tenant-a-member", "tenant_id": str(tenant_a.id)}, Channel.api)
    own = await own_count_beside_a_project_of_b(tenant_a, tenant_b, "B, for the write engine guard")
    frozen = FrozenWithParams(Project.select(Project.name).where(Project.name == Param("name")))
    assert frozen.returns_records  # rows() takes its own path to the engine, not Piccolo's run
    reaches = {
        "a table bound to it": lambda: BaseUser.count().run(),
        "its node": lambda: Project.select(Project.name).run(node=WRITE_NODE),
        # the frozen query's own run (refresh/compat/piccolo_frozen.py), past Piccolo's
        "a frozen query's rows on its node": lambda: frozen.rows(
            WRITE_NODE, name="B, for the write engine guard"
        ),
        "the engine": lambda: WRITE_DB.run_querystring(Project.count().querystrings[0]),
        "its DDL": lambda: WRITE_DB.run_ddl("select 1"),
    }
    for how, reach in reaches.items():
        async with RequestTransaction(READ_DB, claims, get_settings().authenticated_role, True):
            with pytest.raises(WriteClientInRequest):
                await reach()
            assert await Project.count() == own["n"], how  # A's own, none of B's
        with write_client.outside_request("the test's system action, said on purpose"):
            async with RequestTransaction(READ_DB, claims, get_settings().authenticated_role, True):
                await reach()  # said on purpose, it runs
        await reach()  # and outside a request


async def test_in_a_staff_request_the_write_client_refuses_too(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    """Staff reach the admin in the same RLS request transaction as the API, with `via`
    admin (apps/admin/gate.py). There the write engine itself lets queries through, on
    purpose: piccolo-admin reads its own session and user tables, bound to it
    (refresh/db/scope.py, refuse_in_api_request). What holds the admin's code is
    write_client's own guard: it must refuse in a staff request as in an API request,
    and the staff's tables see their tenant's rows only."""
    from apps.admin.tables import AdminSession
    from apps.projects.tables import Project
    from refresh.db.claims import Channel, TenantRole, build_claims
    from refresh.db.engines import READ_DB
    from refresh.db.transaction import RequestTransaction
    from settings import get_settings

    claims = build_claims(  # as the gate builds a staff login's
        {"sub": "staff:a", "tenant_id": str(tenant_a.id), "tenant_role": TenantRole.admin.value},
        Channel.admin,
    )
    own = await own_count_beside_a_project_of_b(
        tenant_a, tenant_b, "B, for the staff write client guard"
    )
    async with RequestTransaction(READ_DB, claims, get_settings().authenticated_role, True):
        with pytest.raises(WriteClientInRequest):
            await write_client.run(Project.count())
        with pytest.raises(WriteClientInRequest):
            await write_client.fetch("select 1")
        with pytest.raises(WriteClientInRequest):
            write_client.transaction()
        assert await Project.count() == own["n"]  # A's own, none of B's
        assert await AdminSession.count() >= 0  # the admin's own tables: let through
