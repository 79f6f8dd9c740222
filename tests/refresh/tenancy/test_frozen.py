"""A frozen query of a tenant table is one query for every tenant: built once, each run
names the tenant of its own request (the value the routing would have put there), and
each tenant sees its own rows only. It was frozen per tenant, in a cache that more
active tenants than its size emptied on most requests."""

from __future__ import annotations

from typing import Any

import pytest
from piccolo.query.base import Query

from apps.tasks.queries import by_id, fetch_task, unfiltered_page
from apps.tasks.tables import Task
from refresh.compat.piccolo_frozen import Param
from refresh.tenancy.frozen import FrozenForTenants
from refresh.tenancy.routing import TENANT_PARAM, request_tenant
from tests.refresh.compat.test_piccolo_frozen import a_task, as_tenant


class Counted:
    """A build that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Query[Any, Any]:
        self.calls += 1
        return Task.select(Task.id, Task.title).where(Task.id == Param("id"))


async def test_one_build_serves_two_tenants_each_its_own_rows(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    mine, theirs = await a_task(tenant_a.id, "frozen A"), await a_task(tenant_b.id, "frozen B")
    build = Counted()
    frozen = FrozenForTenants(Task, build)
    seen = {}
    for tenant, own, other in ((tenant_a, mine, theirs), (tenant_b, theirs, mine)):
        async with as_tenant(tenant):
            query, values = frozen.frozen()
            # the routing's condition, with this request's tenant as its value
            assert '"task"."tenant_id" = $' in query.sql
            assert values == {TENANT_PARAM: tenant.id}
            assert query.params == {"id", TENANT_PARAM}
            assert not {tenant_a.id, tenant_b.id} & set(query.fixed_values)
            seen[tenant.slug] = [r["id"] for r in await frozen.rows(id=own)]
            assert await frozen.rows(id=other) == []
            assert [r["id"] for r in await frozen(id=own)] == [own]  # through Piccolo's run
    assert seen == {tenant_a.slug: [mine], tenant_b.slug: [theirs]}
    assert build.calls == 1


async def test_outside_a_request_it_is_frozen_apart_without_a_tenant(
    app: Any, tenant_a: Any
) -> None:
    build = Counted()
    frozen = FrozenForTenants(Task, build)
    outside, values = frozen.frozen()
    assert (outside.params, values) == ({"id"}, {})
    assert '"tenant_id"' not in outside.sql
    async with as_tenant(tenant_a):
        inside, values = frozen.frozen()
        assert inside is not outside and values == {TENANT_PARAM: tenant_a.id}
    assert frozen.frozen()[0] is outside and build.calls == 2


async def test_a_query_naming_the_requests_tenant_itself_is_refused(
    app: Any, tenant_a: Any
) -> None:
    """Frozen for every tenant, it would name the first request's tenant to all."""

    def naming_it() -> Query[Any, Any]:
        return Task.select(Task.id).where(Task.tenant_id == request_tenant(Task))

    async with as_tenant(tenant_a):
        with pytest.raises(ValueError, match="names the request's tenant itself"):
            FrozenForTenants(Task, naming_it).frozen()


async def test_the_apps_queries_are_built_once_whatever_the_tenants(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    mine, theirs = await a_task(tenant_a.id, "app A"), await a_task(tenant_b.id, "app B")
    built = []
    for tenant, own, other in ((tenant_a, mine, theirs), (tenant_b, theirs, mine)):
        async with as_tenant(tenant):
            assert (await fetch_task(own) or {}).get("id") == own
            assert await fetch_task(other) is None
            built.append((by_id().frozen()[0], unfiltered_page("created_at", True, 50).frozen()[0]))
    assert built[0][0] is built[1][0] and built[0][1] is built[1][1]
