"""Fairness between tenants: at most TENANT_MAX_CONCURRENCY request transactions of one
tenant at a time (per app process), so one tenant's burst cannot take every connection
of the read pool from the others.

A request over its tenant's limit waits up to TENANT_QUEUE_WAIT_SECONDS for a slot,
before taking a connection, then is refused: 429 with `Retry-After`, and nothing ran. The
slot is taken before the pool connection, so a flooding tenant holds at most its limit
of the pool, and the rest stays free for the others.

The limit is a tenant's when it is alone; while another tenant is being served (a request
in flight, or one ended within SHARED_FOR seconds), a tenant starts a new request only
below half of it (at least 1). A worker's event loop is shared by every request it
serves, so a flooding tenant's requests in flight also cost the others latency, not only
connections (bench/fairness.py: one slot of A's in flight kept B's p99 within about 1.5x,
two within about 2x). Slots already held are not taken back; the full limit returns at
the tenant's next release once the others have been quiet for SHARED_FOR.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

# How long after its last request a tenant still counts as served: longer than the gap
# between one client's consecutive requests, so a tenant sending one request after
# another counts as present in between.
SHARED_FOR = 0.1


class TenantBusy(Exception):
    """The tenant has its limit of requests in progress; retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent requests for this tenant")
        self.retry_after = retry_after


@dataclass
class _Slots:
    held: int = 0
    waiting: list[asyncio.Future[None]] = field(default_factory=list)
    users: int = 0  # holders and waiters: the entry goes when nobody uses it


class TenantLimiter:
    """`limit` concurrent slots per tenant (0: no limit), half of them (at least 1) while
    other tenants are served, waiting at most `wait` seconds."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self.shared_limit = max(1, limit // 2)
        self.wait = wait
        self._tenants: dict[str, _Slots] = {}
        self._last_served: dict[str, float] = {}  # tenants idle now: when they last were

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _forget_quiet(self, now: float) -> None:
        """Drop the tenants quiet for SHARED_FOR: the oldest first (the dict is in the
        order they went idle), so each entry is looked at about once."""
        while self._last_served:
            oldest = next(iter(self._last_served))
            if now - self._last_served[oldest] < SHARED_FOR:
                return
            del self._last_served[oldest]

    def _others_served(self, tenant: str) -> bool:
        self._forget_quiet(time.monotonic())
        if any(other != tenant for other in self._last_served):
            return True
        return any(s.held for t, s in self._tenants.items() if t != tenant)

    def _may_start(self, tenant: str, slots: _Slots) -> bool:
        if slots.held < self.shared_limit:
            return True  # within its share whoever else is served: nothing to look up
        return slots.held < self.limit and not self._others_served(tenant)

    async def acquire(self, tenant: str) -> None:
        slots = self._tenants.setdefault(tenant, _Slots())
        slots.users += 1
        if not slots.waiting and self._may_start(tenant, slots):
            slots.held += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slots.waiting.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.wait)
        except TimeoutError:
            self._give_up(tenant, slots, waiter)
            raise TenantBusy(max(1, math.ceil(self.wait))) from None
        except asyncio.CancelledError:  # the client went away while waiting
            self._give_up(tenant, slots, waiter)
            raise

    def _give_up(self, tenant: str, slots: _Slots, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.release(tenant)  # granted just as it gave up: the slot goes on
            return
        waiter.cancel()
        slots.waiting.remove(waiter)
        self._leave(tenant, slots)

    def release(self, tenant: str) -> None:
        slots = self._tenants[tenant]
        slots.held -= 1
        self._hand_on(tenant, slots)
        self._leave(tenant, slots)

    def _hand_on(self, tenant: str, slots: _Slots) -> None:
        """Slots free: to the longest waiters, as many as the tenant may start now."""
        while slots.waiting and self._may_start(tenant, slots):
            waiter = slots.waiting.pop(0)
            if not waiter.done():
                slots.held += 1
                waiter.set_result(None)

    def _leave(self, tenant: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0:
            del self._tenants[tenant]  # memory bounded by the tenants active now
            now = time.monotonic()  # and by those of the last SHARED_FOR seconds
            self._forget_quiet(now)
            self._last_served.pop(tenant, None)
            self._last_served[tenant] = now


class LimitedTransaction:
    """A request transaction entered only once its tenant has a free slot."""

    def __init__(self, limiter: TenantLimiter, tenant: str, transaction: Any) -> None:
        self.limiter, self.tenant, self.transaction = limiter, tenant, transaction

    async def __aenter__(self) -> Any:
        await self.limiter.acquire(self.tenant)
        try:
            return await self.transaction.__aenter__()
        except BaseException:
            self.limiter.release(self.tenant)
            raise

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.transaction.__aexit__(*exc_info)
        finally:
            self.limiter.release(self.tenant)
