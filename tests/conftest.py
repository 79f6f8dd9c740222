"""Fixtures: one fresh database per run, migrated by the real CLI; the app over ASGI;
two tenants (A and B) with members and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.database import create_test_database, drop_test_database, piccolo, refuse_fan_out
from tests.routes import test_routes


def pytest_configure(config: pytest.Config) -> None:
    """One fresh database for the run, migrated by the real CLI, before any test module
    is collected (so before any project module reads settings)."""
    database = create_test_database()
    # on Citus the placement migrations distribute the tables (no `piccolo rls distribute`)
    piccolo("migrations", "forwards", "all")
    if database.citus is not None:
        refuse_fan_out(database)


def pytest_unconfigure(config: pytest.Config) -> None:
    drop_test_database()


@pytest.fixture(scope="session")
async def app() -> AsyncIterator[Any]:
    from app import create_app

    application = create_app(extra_api_routes=test_routes)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://refresh.test") as c:
        yield c


@dataclass
class TenantFixture:
    id: Any
    slug: str
    token: str
    admin_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_tenant(slug: str) -> TenantFixture:
    from apps.tenants.operations import create_tenant, ensure_member
    from refresh.db.claims import TenantRole
    from refresh.web.tokens import issue_token
    from settings import get_settings

    tenant_id = await create_tenant(slug, slug.title())
    await ensure_member(tenant_id, f"{slug}-member", f"m@{slug}.test", "Member", "member")
    await ensure_member(tenant_id, f"{slug}-admin", f"a@{slug}.test", "Admin", "admin")
    settings = get_settings()
    return TenantFixture(
        id=tenant_id,
        slug=slug,
        token=issue_token(settings, tenant_id, f"{slug}-member", TenantRole.member),
        admin_token=issue_token(settings, tenant_id, f"{slug}-admin", TenantRole.admin),
    )


@pytest.fixture(scope="session")
async def tenant_a(app: Any) -> TenantFixture:
    return await make_tenant("tenant-a")


@pytest.fixture(scope="session")
async def tenant_b(app: Any) -> TenantFixture:
    return await make_tenant("tenant-b")


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture):
    """Fails the test if the app logged an error (what a 5xx would leave in the log)."""
    import logging

    caplog.set_level(logging.WARNING, logger="refresh")
    yield
    errors = [r for r in caplog.records if r.name.startswith("refresh") and r.levelno >= 40]
    assert errors == [], [r.getMessage() for r in errors]
