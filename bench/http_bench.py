"""HTTP level: the real app (a), the baseline app (b) and the floor (d), loaded by wrk.

The three servers run at once, on their own ports, but only one is under load at a
time: for each endpoint, after a warm-up of each, repetitions alternate the order (a b d,
then d b a, ...), each variant receiving the same requests (random tenants, their tokens
and task ids, seeded) from `wrk -t2 -c32` for the same time. A repetition's figures are
each variant's throughput, p50 and p99 latency and CPU per request; the ratios a/b and
a/d are taken per repetition, the latencies as medians over repetitions.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench import wrk
from bench.datagen import MAIN_TENANTS
from bench.http_client import Request
from bench.progress import Progress
from bench.server import DATA_DIR
from bench.servers import AppServer, cpu_delta, postgres_cpu_seconds
from bench.stats import Spread, median, ratios

CONCURRENCY = wrk.CONNECTIONS
VARIANTS = ("rls", "baseline", "floor")


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
    p50s_ms: list[float] = field(default_factory=list)  # per repetition
    p99s_ms: list[float] = field(default_factory=list)
    app_cpu_ms: list[float] = field(default_factory=list)  # per request, per repetition
    db_cpu_ms: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0

    @property
    def cpu_ms(self) -> list[float]:
        """CPU per request of the app process plus PostgreSQL, per repetition."""
        return [a + d for a, d in zip(self.app_cpu_ms, self.db_cpu_ms, strict=True)]

    def add(self, result: wrk.WrkResult, app_cpu_s: float, db_cpu_s: float) -> None:
        self.throughputs.append(result.throughput)
        self.p50s_ms.append(result.p50_ms)
        self.p99s_ms.append(result.p99_ms)
        self.app_cpu_ms.append(1000 * app_cpu_s / max(result.requests, 1))
        self.db_cpu_ms.append(1000 * db_cpu_s / max(result.requests, 1))
        self.requests += result.requests
        self.errors += result.errors

    @property
    def p50(self) -> float:
        return median(self.p50s_ms)

    @property
    def p99(self) -> float:
        return median(self.p99s_ms)


@dataclass
class EndpointResult:
    name: str
    rls: VariantLoad = field(default_factory=VariantLoad)
    baseline: VariantLoad = field(default_factory=VariantLoad)
    floor: VariantLoad = field(default_factory=VariantLoad)

    @property
    def throughput_ratio(self) -> Spread:
        return Spread.of(ratios(self.rls.throughputs, self.baseline.throughputs))

    @property
    def floor_ratio(self) -> Spread:
        return Spread.of(ratios(self.rls.throughputs, self.floor.throughputs))

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
    server: AppServer, script: Path, seconds: float
) -> tuple[wrk.WrkResult, float, float]:
    """wrk on one server, sampling its RSS every 50 ms; also the CPU it and PostgreSQL
    used (seconds), which other processes on the machine do not inflate."""
    app_before, db_before = server.cpu_seconds(), postgres_cpu_seconds(DATA_DIR)
    result = await wrk.run(server.port, script, seconds, server.sample_rss)
    app_cpu = server.cpu_seconds() - app_before
    db_cpu = cpu_delta(db_before, postgres_cpu_seconds(DATA_DIR))
    if result.errors:
        raise RuntimeError(
            f"{server.variant}: {result.non_2xx} non-2xx, {result.socket_errors} socket errors"
        )
    return result, app_cpu, db_cpu


async def run_http_bench(
    servers: dict[str, AppServer],
    callers: Sequence[Caller],
    reps: int,
    seconds: float,
    warmup_seconds: float,
    work_dir: Path,
    seed: int = 7,
) -> list[EndpointResult]:
    rng = random.Random(seed)  # noqa: S311 (sampling, not secrets)
    results = []
    for endpoint in ENDPOINTS:
        result = EndpointResult(endpoint.name)
        script = wrk.write_script(
            work_dir / f"wrk-{endpoint.path(uuid.UUID(int=0)).count('/')}.lua",
            request_batch(endpoint, callers, 2_000, rng),
        )
        for variant in VARIANTS:
            await measured_load(servers[variant], script, warmup_seconds)
        progress = Progress(f"http: {endpoint.name}", reps)
        for rep in range(reps):
            order = VARIANTS if rep % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                load, app_cpu, db_cpu = await measured_load(servers[variant], script, seconds)
                getattr(result, variant).add(load, app_cpu, db_cpu)
            progress.advance(
                f"a/b {result.throughput_ratio.median:.2f} a/d {result.floor_ratio.median:.2f}"
            )
        progress.done()
        results.append(result)
    return results


def fetch_json(port: int, request: Request) -> tuple[int, object]:
    url = f"http://127.0.0.1:{port}{request.path}"
    headers = {"Authorization": f"Bearer {request.token}"}
    http = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(http, timeout=10) as response:  # noqa: S310 (loopback, http only)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def check_same_responses(servers: dict[str, AppServer], callers: Sequence[Caller]) -> None:
    """Every variant answers what the real app answers (status and JSON), for a few
    callers of each endpoint: otherwise the comparison would measure different work."""
    for endpoint in ENDPOINTS:
        for caller in callers[:5]:
            request = Request(endpoint.path(caller.task_id), caller.token)
            expected = fetch_json(servers["rls"].port, request)
            if expected[0] != 200:
                raise RuntimeError(f"rls {request.path}: status {expected[0]}")
            for variant in VARIANTS[1:]:
                if fetch_json(servers[variant].port, request) != expected:
                    raise RuntimeError(f"{variant} {request.path}: not the app's response")
