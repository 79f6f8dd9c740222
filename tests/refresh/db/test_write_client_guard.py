"""The write client cannot be used by a request by accident (issue #12, mistake 2): inside
a request transaction it refuses, loudly, unless the code says why (`outside_request`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from refresh.db.clients import write_client
from refresh.db.scope import WriteClientInRequest


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
