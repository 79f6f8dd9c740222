"""Fairness between tenants: at most TENANT_MAX_CONCURRENCY request transactions of one
tenant at a time (per app process), so one tenant's burst cannot take every connection
of the read pool from the others.

A request over its tenant's limit waits up to TENANT_QUEUE_WAIT_SECONDS for a slot,
before taking a connection, then is refused: 429 with `Retry-After`, and nothing ran. The
slot is taken before the pool connection, so a flooding tenant holds at most its limit
of the pool, and the rest stays free for the others.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any


class TenantBusy(Exception):
    """The tenant has its limit of requests in progress; retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent requests for this tenant")
        self.retry_after = retry_after


@dataclass
class _Slots:
    free: int
    waiting: list[asyncio.Future[None]] = field(default_factory=list)
    users: int = 0  # holders and waiters: the entry goes when nobody uses it


class TenantLimiter:
    """`limit` concurrent slots per tenant (0: no limit), waiting at most `wait` seconds."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self.wait = wait
        self._tenants: dict[str, _Slots] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    async def acquire(self, tenant: str) -> None:
        slots = self._tenants.setdefault(tenant, _Slots(self.limit))
        slots.users += 1
        if slots.free > 0:
            slots.free -= 1
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
            self._hand_on(tenant, slots)  # granted just as it gave up: pass the slot on
        else:
            waiter.cancel()
            slots.waiting.remove(waiter)
        self._leave(tenant, slots)

    def release(self, tenant: str) -> None:
        slots = self._tenants[tenant]
        self._hand_on(tenant, slots)
        self._leave(tenant, slots)

    def _hand_on(self, tenant: str, slots: _Slots) -> None:
        """A slot freed: to the longest waiter, else back to the pool of slots."""
        while slots.waiting:
            waiter = slots.waiting.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        slots.free += 1

    def _leave(self, tenant: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0:
            del self._tenants[tenant]  # memory bounded by the tenants active now


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
