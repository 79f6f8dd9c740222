"""Fairness: tenant A floods with more long requests than the read pool has connections;
with TENANT_MAX_CONCURRENCY its excess gets 429 (JSON, Retry-After) after the short wait,
and tenant B is served as if A were quiet. Without the limit, B waits behind A."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from refresh.db.engines import READ_DB
from refresh.web.fairness import SHARED_FOR, TenantBusy, TenantLimiter
from settings import get_settings
from tests.routes import test_routes

HOLD = 1.5  # seconds each of A's requests keeps its transaction


def app_with_limit(monkeypatch: pytest.MonkeyPatch, limit: int) -> Any:
    from app import create_app

    monkeypatch.setattr(get_settings(), "tenant_max_concurrency", limit)
    monkeypatch.setattr(get_settings(), "tenant_queue_wait_seconds", 0.2)
    return create_app(extra_api_routes=test_routes)  # the session's pools serve it


async def flood(application: Any, tenant_a: Any, tenant_b: Any) -> tuple[list[Any], float]:
    """A sends more holding requests than the pool has connections; B asks for its
    projects while they run. Returns A's responses and B's latency."""
    pool_size = READ_DB.pool.get_max_size()  # type: ignore[union-attr]
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        flooding = [
            asyncio.create_task(
                client.get(f"/api/_test/hold?seconds={HOLD}", headers=tenant_a.headers)
            )
            for _ in range(pool_size + 4)
        ]
        await asyncio.sleep(0.3)  # A holds what it can
        started = time.monotonic()
        response = await client.get("/api/projects", headers=tenant_b.headers)
        latency = time.monotonic() - started
        assert response.status_code == 200, response.text
        return await asyncio.gather(*flooding), latency


async def test_one_tenant_flooding_leaves_the_pool_to_the_others(
    app, tenant_a, tenant_b, monkeypatch
):
    responses, latency = await flood(app_with_limit(monkeypatch, 2), tenant_a, tenant_b)
    assert latency < 0.5, latency  # A's requests hold their connections for 1.5 s
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and statuses.count(429) >= len(responses) - 4, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "error": {
            "code": "too_many_requests",
            "message": "too many concurrent requests for this tenant",
        }
    }


async def test_without_the_limit_the_other_tenant_waits(app, tenant_a, tenant_b, monkeypatch):
    """The contrast that makes the test above mean something."""
    responses, latency = await flood(app_with_limit(monkeypatch, 0), tenant_a, tenant_b)
    assert latency > 0.8, latency
    assert all(r.status_code in (200, 503) for r in responses)


async def test_slots_are_handed_on_and_forgotten():
    limiter = TenantLimiter(1, 0.5)
    await limiter.acquire("a")
    waiting = asyncio.create_task(limiter.acquire("a"))
    await asyncio.sleep(0.05)
    await limiter.acquire("b")  # another tenant is not held up
    limiter.release("a")
    await waiting  # the waiter got the freed slot
    limiter.release("a")
    limiter.release("b")
    assert limiter._tenants == {}  # nothing kept for idle tenants


async def test_alone_a_tenant_has_its_limit_and_beside_another_half_of_it():
    """Half (at least 1) while another tenant is served or was a moment ago; what it holds
    is not taken back; the whole limit again once the others are quiet."""
    limiter = TenantLimiter(2, 0.05)
    await limiter.acquire("a")
    await limiter.acquire("a")  # alone: both slots
    await limiter.acquire("b")  # another tenant is served beside them
    waiting = asyncio.create_task(limiter.acquire("a"))
    await asyncio.sleep(0.01)
    limiter.release("a")  # a holds 1, its share while b is served: the waiter waits on
    with pytest.raises(TenantBusy):
        await waiting
    limiter.release("b")
    with pytest.raises(TenantBusy):
        await limiter.acquire("a")  # b's request has just ended: it still counts
    await asyncio.sleep(SHARED_FOR + 0.02)
    await limiter.acquire("a")  # b quiet for SHARED_FOR: the whole limit
    limiter.release("a")
    limiter.release("a")
    assert limiter._tenants == {}


async def test_one_slot_is_always_a_tenants_whoever_else_is_served():
    limiter = TenantLimiter(1, 0.05)
    assert limiter.shared_limit == 1
    for tenant in ("a", "b", "c"):
        await limiter.acquire(tenant)
    for tenant in ("a", "b", "c"):
        limiter.release(tenant)


async def test_tenants_quiet_for_a_moment_are_forgotten():
    limiter = TenantLimiter(4, 0.05)
    for n in range(1_000):
        await limiter.acquire(f"t{n}")
        limiter.release(f"t{n}")
    assert len(limiter._last_served) == 1_000  # served within the last moment
    await asyncio.sleep(SHARED_FOR + 0.02)
    await limiter.acquire("x")
    limiter.release("x")
    assert list(limiter._last_served) == ["x"]


async def test_a_tenants_staff_share_its_slots_with_its_api(app, tenant_a, tenant_b, monkeypatch):
    """The admin reads through the same read pool: while A's API requests hold A's two
    slots, A's staff get the same 429 (JSON, Retry-After) and B's staff are served."""
    from tests.apps.admin.support import new_staff, open_session

    limited = app_with_limit(monkeypatch, 2)
    a_staff = await open_session(limited, await new_staff(tenant_a.id))
    b_staff = await open_session(limited, await new_staff(tenant_b.id))
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        holding = [
            asyncio.create_task(
                client.get(f"/api/_test/hold?seconds={HOLD}", headers=tenant_a.headers)
            )
            for _ in range(2)
        ]
        await asyncio.sleep(0.3)
        refused = await a_staff.get("/tables/project/")
        served = await b_staff.get("/tables/project/")
        held = await asyncio.gather(*holding)
    assert [r.status_code for r in held] == [200, 200]
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert served.status_code == 200, served.text
    assert (await a_staff.get("/tables/project/")).status_code == 200  # slots free again
