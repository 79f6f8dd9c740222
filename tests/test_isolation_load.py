"""Isolation under load: 20 tenants, 5,000 requests at concurrency 64 against a real
uvicorn, mixed reads and writes, ~5% of handlers failing mid-transaction on purpose.
Zero responses with another tenant's data, zero rows in the wrong tenant, zero partial
writes; afterwards every pooled connection is back to the authenticator with no claims.
(With TEST_PGBOUNCER=1 the app's read pool goes through PgBouncer.)"""

from __future__ import annotations

import os
import uuid

from apps.projects.tables import Project
from apps.tasks.tables import Task
from refresh.db.clients import write_client
from settings import get_settings
from tests.load import load_tenants, pool_state, run_load
from tests.scratch import uvicorn

REQUESTS = 5_000
CONCURRENCY = 64
TENANTS = 20
POOL_SIZE = 20


async def test_no_leak_under_concurrent_load():
    tenants, projects = await load_tenants(f"load-{uuid.uuid4().hex[:6]}", TENANTS)
    env = {"READ_POOL_MAX_SIZE": str(POOL_SIZE), "READ_POOL_MIN_SIZE": "5"}
    with uvicorn(env, target="tests.routes:create_test_app", factory=True) as base:
        result = await run_load(base, tenants, projects, REQUESTS, CONCURRENCY)
        pool = await pool_state(base)

    assert result.leaks == []
    unexpected = dict(result.unexpected)
    if os.environ.get("TEST_CITUS"):
        # On the Citus test cluster (three servers on the same 2 cores as the load) a
        # request can wait past DB_ACQUIRE_TIMEOUT for a pooled connection: the documented
        # 503 "unavailable, retry", tolerated there below 2%; nothing else is.
        busy = {k: n for k, n in unexpected.items() if k[1] == 503}
        assert sum(busy.values()) < REQUESTS * 0.02, busy
        unexpected = {k: n for k, n in unexpected.items() if k[1] != 503}
    assert unexpected == {}
    assert sum(result.statuses.values()) == REQUESTS
    assert result.statuses[("failing write", 500)] > REQUESTS * 0.03

    # Every row is in the tenant its name says; no failed write left anything behind.
    slug_of = {t.id: t.slug for t in tenants}
    rows = await write_client.run(
        Project.select(Project.name, Project.tenant_id.as_alias("tenant")).where(
            Project.tenant_id.is_in(list(slug_of))
        )
    )
    assert all(r["name"].startswith(slug_of[r["tenant"]] + "|") for r in rows)
    assert not [r for r in rows if "|fail-" in r["name"]]
    assert len(rows) == result.statuses[("create project", 201)] + TENANTS
    tasks = await write_client.run(
        Task.select(Task.title, Task.tenant_id.as_alias("tenant")).where(
            Task.tenant_id.is_in(list(slug_of))
        )
    )
    assert all(r["title"].startswith(slug_of[r["tenant"]] + "|") for r in tasks)
    assert len(tasks) == result.statuses[("create task", 201)]

    assert pool == {(get_settings().authenticator_role, "")}
