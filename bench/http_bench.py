"""HTTP level: the real app (a) against the baseline app (b), under uvicorn, concurrency 32.

Both servers run at once, on their own ports, but only one is under load at a time:
for each endpoint, repetitions alternate the order (a then b, b then a, ...), each
variant sending the same requests (random tenants, their tokens and task ids, seeded).
A repetition's figure is the throughput of each variant; the ratio a/b is taken per
repetition. Latencies of all of a variant's requests give its p50 and p99. The load
generator runs in this process, on the same 2 cores as the server and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import asyncpg

from bench.datagen import MAIN_TENANTS
from bench.http_client import LoadResult, Request, run_load
from bench.progress import Progress
from bench.server import DATA_DIR
from bench.servers import AppServer, cpu_delta, postgres_cpu_seconds
from bench.stats import Spread, percentile, ratios

CONCURRENCY = 32


@dataclass(frozen=True)
class Endpoint:
    name: str  # as shown: GET /api/tasks?limit=50
    path: Callable[[uuid.UUID], str]  # task id -> path


ENDPOINTS = (
    Endpoint("GET /api/tasks?limit=50", lambda task_id: "/api/tasks?limit=50"),
    Endpoint("GET /api/tasks/{id}", lambda task_id: f"/api/tasks/{task_id}"),
)


@dataclass
class VariantLoad:
    throughputs: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    app_cpu_ms: list[float] = field(default_factory=list)  # per request, per repetition
    db_cpu_ms: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0

    @property
    def cpu_ms(self) -> list[float]:
        """CPU per request of the app process plus PostgreSQL, per repetition."""
        return [a + d for a, d in zip(self.app_cpu_ms, self.db_cpu_ms, strict=True)]

    def add(self, result: LoadResult, app_cpu_s: float, db_cpu_s: float) -> None:
        self.throughputs.append(result.throughput)
        self.app_cpu_ms.append(1000 * app_cpu_s / max(result.requests, 1))
        self.db_cpu_ms.append(1000 * db_cpu_s / max(result.requests, 1))
        self.latencies_ms.extend(result.latencies_ms)
        self.requests += result.requests
        self.errors += result.errors

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


@dataclass
class EndpointResult:
    name: str
    rls: VariantLoad = field(default_factory=VariantLoad)
    baseline: VariantLoad = field(default_factory=VariantLoad)

    @property
    def throughput_ratio(self) -> Spread:
        return Spread.of(ratios(self.rls.throughputs, self.baseline.throughputs))

    @property
    def cpu_ratio(self) -> Spread:
        return Spread.of(ratios(self.rls.cpu_ms, self.baseline.cpu_ms))


@dataclass(frozen=True)
class Caller:
    token: str
    task_id: uuid.UUID


async def load_callers(write_url: str, count: int, seed: int) -> list[Caller]:
    """Random tenants, a token for each (tenant member), and one of its task ids."""
    from refresh.db.claims import TenantRole
    from refresh.web.tokens import issue_token
    from settings import get_settings

    settings = get_settings()
    connection = await asyncpg.connect(write_url)
    try:
        rows = await connection.fetch(
            "select distinct on (tenant_id) tenant_id, id from task"
            f" where tenant_id in ({MAIN_TENANTS}) order by tenant_id, md5(id::text || $1)",
            str(seed),
        )
    finally:
        await connection.close()
    chosen = random.Random(seed).sample(  # noqa: S311 (sampling, not secrets)
        list(rows), min(count, len(rows))
    )
    return [
        Caller(issue_token(settings, r["tenant_id"], "user-1", TenantRole.member, 7200), r["id"])
        for r in chosen
    ]


def request_batch(
    endpoint: Endpoint, callers: Sequence[Caller], size: int, rng: random.Random
) -> list[Request]:
    picks = [rng.choice(callers) for _ in range(size)]
    return [Request(endpoint.path(c.task_id), c.token) for c in picks]


async def measured_load(
    server: AppServer, batch: Sequence[Request]
) -> tuple[LoadResult, float, float]:
    """Run a load on one server, sampling its RSS every 50 ms; also the CPU it and
    PostgreSQL used (seconds), which other processes on the machine do not inflate."""
    app_before, db_before = server.cpu_seconds(), postgres_cpu_seconds(DATA_DIR)
    task = asyncio.create_task(run_load(server.port, batch, CONCURRENCY))
    while not task.done():
        server.sample_rss()
        await asyncio.wait({task}, timeout=0.05)
    app_cpu = server.cpu_seconds() - app_before
    db_cpu = cpu_delta(db_before, postgres_cpu_seconds(DATA_DIR))
    return task.result(), app_cpu, db_cpu


async def run_http_bench(
    servers: dict[str, AppServer],
    callers: Sequence[Caller],
    reps: int,
    per_rep: int,
    warmup: int,
    seed: int = 7,
) -> list[EndpointResult]:
    rng = random.Random(seed)  # noqa: S311 (sampling, not secrets)
    results = []
    for endpoint in ENDPOINTS:
        result = EndpointResult(endpoint.name)
        for variant in ("rls", "baseline"):
            batch = request_batch(endpoint, callers, warmup, rng)
            warm = await run_load(servers[variant].port, batch, CONCURRENCY)
            if warm.errors:
                raise RuntimeError(f"{variant} {endpoint.name}: {dict(warm.statuses)}")
        progress = Progress(f"http: {endpoint.name}", reps)
        for rep in range(reps):
            batch = request_batch(endpoint, callers, per_rep, rng)
            order = ("rls", "baseline") if rep % 2 == 0 else ("baseline", "rls")
            for variant in order:
                load, app_cpu, db_cpu = await measured_load(servers[variant], batch)
                getattr(result, variant).add(load, app_cpu, db_cpu)
            progress.advance(f"a/b {result.throughput_ratio.median:.2f}")
        progress.done()
        results.append(result)
    return results
