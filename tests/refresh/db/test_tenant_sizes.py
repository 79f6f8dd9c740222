"""The tenants the statistics single out (refresh/db/tenant_sizes.py, auth.large_tenants):
a tenant far above the average share of task's rows is named, the others are not, and
the request roles cannot ask."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
import pytest

from tests.conftest import TenantFixture
from tests.large_tenant import large_tenant, tenants_assumed
from tests.refresh.db.test_plan_cache_mode import request_of

one_server_only = pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="one server only: Citus keeps no statistics of a distributed table's rows",
)


@one_server_only
async def test_a_tenant_far_above_the_average_is_named_the_others_are_not(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture
) -> None:
    from apps.tasks.tables import Task
    from refresh.db.tenant_sizes import LargeTenants

    sizes = LargeTenants(Task)
    async with large_tenant("sizes-big") as big, tenants_assumed(1_000):
        await sizes.read()
        assert sizes.is_large(big.id)
        assert not sizes.is_large(tenant_a.id) and not sizes.is_large(tenant_b.id)


async def test_every_tenant_counts_as_large_until_the_first_read(
    app: Any, tenant_a: TenantFixture
) -> None:
    """A request never waits for the statistics: the first asks in the background, and
    until they are read every tenant is planned for its values, as before."""
    from apps.tasks.tables import Task
    from refresh.db.tenant_sizes import LargeTenants

    nobody = LargeTenants(Task, times_average=1e9)  # no tenant is that far above
    assert nobody.is_large(tenant_a.id)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if not nobody.is_large(tenant_a.id):
            break
    assert not nobody.is_large(tenant_a.id)


@pytest.mark.parametrize("channel", ["api", "admin"])
async def test_a_request_cannot_ask_which_tenants_are_large(
    app: Any, tenant_a: TenantFixture, tenant_b: TenantFixture, channel: str
) -> None:
    for tenant in (tenant_a, tenant_b):
        async with request_of(tenant, channel) as transaction:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await transaction.connection.fetch("select auth.large_tenants('task', 10)")
