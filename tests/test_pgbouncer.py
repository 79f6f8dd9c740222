"""Behind PgBouncer in transaction mode: concurrent traffic is isolated and clean with
PGBOUNCER=true (statement cache off), and fails without it, which is why the setting
exists (a sequential test would pass either way)."""

from __future__ import annotations

import uuid

import pytest

from settings import get_settings
from tests import pgbouncer
from tests.database import test_database
from tests.load import load_tenants, pool_state, run_load
from tests.scratch import uvicorn

if not pgbouncer.available() and not pgbouncer.must_run():
    pytest.skip(
        "pgbouncer is not installed (apt-get install pgbouncer); CI installs it",
        allow_module_level=True,
    )


async def test_transaction_pooling_is_safe_with_the_pooler_setting():
    s = get_settings()
    tenants, projects = await load_tenants(f"bouncer-{uuid.uuid4().hex[:6]}", 6)
    with pgbouncer.pgbouncer(test_database().superuser_url, [s.authenticator_role]) as port:
        read_url = f"postgresql://{s.authenticator_role}@127.0.0.1:{port}/{test_database().name}"
        env = {"READ_DATABASE_URL": read_url, "READ_POOL_MAX_SIZE": "10"}

        with uvicorn(
            {**env, "PGBOUNCER": "true"}, target="tests.routes:create_test_app", factory=True
        ) as base:
            safe = await run_load(base, tenants, projects, requests=800, concurrency=32)
            pool = await pool_state(base)
        assert safe.leaks == [] and safe.unexpected == {}
        assert pool == {(s.authenticator_role, "")}

        with uvicorn(
            {**env, "PGBOUNCER": "false"}, target="tests.routes:create_test_app", factory=True
        ) as base:
            unsafe = await run_load(base, tenants, projects, requests=800, concurrency=32)
        # Prepared statements cached on one server connection are missing on the next.
        assert unsafe.unexpected, "expected failures with the statement cache on"
        assert unsafe.leaks == []
