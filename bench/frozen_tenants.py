"""What a request pays to get its frozen query, by the number of tenants making requests.

    python -m bench.frozen_tenants [REQUESTS] [REPS]

Side by side, in one run:
    per tenant   the fetch by id frozen once per tenant in an LRU cache of 4,096 (how
                 apps/tasks/queries.py kept it until 2026-12-07: inside a request the
                 query names the tenant as a constant)
    one query    refresh/tenancy/frozen.py: one query for every tenant, the tenant given
                 at each run
For each number of tenants, REQUESTS requests (10,000 by default) from tenants picked at
random, the request's tenant set as a request transaction sets it, timed after as many
untimed ones (the cache as a running server's); variants alternate across REPS
repetitions (3), the median per request is printed. CPU only: no database (nothing is
run, only the query and its values obtained, as the app does before running it).
bench/RESULTS.md keeps the figures of record.
"""

from __future__ import annotations

import functools
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from apps.tasks.queries import COLUMNS
from apps.tasks.tables import Task
from refresh.compat.piccolo_frozen import FrozenWithParams, Param
from refresh.db.claims import Channel, build_claims
from refresh.db.engines import READ_DB
from refresh.db.transaction import RequestTransaction
from refresh.tenancy.frozen import FrozenForTenants
from refresh.tenancy.routing import request_tenant

TENANT_COUNTS = (200, 1_000, 4_000, 8_000, 16_000)


def fetch_by_id() -> Any:
    return Task.select(*COLUMNS).where(Task.id == Param("id")).limit(1)


def per_tenant() -> Callable[[], Any]:
    @functools.lru_cache(maxsize=4096)
    def by_id(tenant: uuid.UUID | None) -> FrozenWithParams:
        return FrozenWithParams(fetch_by_id())

    return lambda: (by_id(request_tenant(Task)), {})


def one_query() -> Callable[[], Any]:
    frozen = FrozenForTenants(Task, fetch_by_id)
    return frozen.frozen


def requests_of(tenants: int, count: int, seed: int) -> list[RequestTransaction]:
    """`count` request transactions (never entered: no database) of random tenants."""
    rng = random.Random(seed)  # noqa: S311 (sampling, not secrets)
    transactions = []
    for _ in range(tenants):
        tenant = uuid.UUID(int=rng.getrandbits(128), version=4)
        claims = build_claims({"sub": "user-1", "tenant_id": str(tenant)}, Channel.api)
        transactions.append(RequestTransaction(READ_DB, claims, "authenticated", True))
    return [rng.choice(transactions) for _ in range(count)]


def timed(get: Callable[[], Any], warm: list[RequestTransaction], requests: list[Any]) -> float:
    """Microseconds per request to get the query over `requests`, after `warm` (as many
    requests before them, which leave the cache as a server's would be)."""
    current = Task._meta.db.current_transaction
    for transaction in warm:
        token = current.set(transaction)
        get()
        current.reset(token)
    started = time.perf_counter()
    for transaction in requests:
        token = current.set(transaction)
        get()
        current.reset(token)
    return (time.perf_counter() - started) / len(requests) * 1e6


def main(count: int, reps: int) -> str:
    lines = [
        "| tenants | per tenant (LRU 4,096), us/request | one query, us/request | ratio |",
        "|---|---|---|---|",
    ]
    for tenants in TENANT_COUNTS:
        both = requests_of(tenants, 2 * count, seed=tenants)
        warm, requests = both[:count], both[count:]
        times: dict[str, list[float]] = {"per tenant": [], "one query": []}
        for rep in range(reps):
            order = [("per tenant", per_tenant), ("one query", one_query)]
            for name, make in order if rep % 2 == 0 else order[::-1]:
                times[name].append(timed(make(), warm, requests))
        old, new = (statistics.median(times[n]) for n in ("per tenant", "one query"))
        lines.append(f"| {tenants:,} | {old:,.1f} | {new:,.1f} | {old / new:,.1f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(main(args[0] if args else 10_000, args[1] if len(args) > 1 else 3))
