"""SQL level: each typical query under RLS (a), with an explicit filter (b), correlated (c).

Each repetition picks a tenant at random; the read connection (the authenticator) opens a
READ ONLY transaction and runs `auth.begin_request` with that tenant's claims, exactly as
the middleware does; the write connection (admin, BYPASSRLS) runs (b) outside any
transaction, as the baseline app does. For every query, each variant runs once untimed
(caches), then the variants alternate a, b, b, a, a, b, ... `inner` times each; a repetition's time
for a variant is the median of its runs, timed around `fetch` (the client's view: round
trip, parse of the result). (c) is slow (a full scan with a subquery per row), so it runs
once per repetition, in the first `reps_c` repetitions only. Both connections keep
asyncpg's statement cache, like the app's pools: the statements are prepared once.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field

import asyncpg

from bench import pgstats
from bench.datagen import MAIN_TENANTS
from bench.pgstats import StatementStats
from bench.progress import Progress
from bench.sql_queries import QUERIES, Statement, TenantSample
from bench.stats import Spread, median, ratios
from refresh.db.transaction import BEGIN_REQUEST


@dataclass
class QueryResult:
    name: str
    request: str
    rls_ms: list[float] = field(default_factory=list)
    explicit_ms: list[float] = field(default_factory=list)
    correlated_ms: list[float] = field(default_factory=list)
    explicit_for_c_ms: list[float] = field(default_factory=list)  # (b) of the reps with (c)
    rls_rows: int = 0
    explicit_rows: int = 0
    server_rls: StatementStats | None = None  # pg_stat_statements: plans, plan/exec time
    server_explicit: StatementStats | None = None

    @property
    def a_over_b(self) -> Spread:
        return Spread.of(ratios(self.rls_ms, self.explicit_ms))

    @property
    def c_over_b(self) -> Spread:
        return Spread.of(ratios(self.correlated_ms, self.explicit_for_c_ms))


@dataclass
class SqlResults:
    queries: list[QueryResult]
    reps: int
    inner: int
    reps_c: int
    plans: dict[str, str]  # query name -> EXPLAIN (ANALYZE, BUFFERS) of (a)
    correlated_plan: str  # EXPLAIN ANALYZE of (c) for the list page


async def begin_request(connection: asyncpg.Connection, tenant_id: uuid.UUID, role: str) -> None:
    """What the middleware runs after BEGIN: role and claims (no statement timeout here)."""
    args = (claims_json(tenant_id), role, None)[: BEGIN_REQUEST.count("$")]
    await connection.execute(BEGIN_REQUEST, *args)


def claims_json(tenant_id: uuid.UUID) -> str:
    now = int(time.time())
    payload = {
        "sub": "user-1",
        "tenant_id": str(tenant_id),
        "tenant_role": "member",
        "iat": now,
        "exp": now + 3600,
    }
    return json.dumps(payload, separators=(",", ":"))


async def server_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        version: str = await connection.fetchval("select version()")
    finally:
        await connection.close()
    return version.split(" on ")[0]  # PostgreSQL 18.6


async def load_samples(write_url: str, count: int, rng: random.Random) -> list[TenantSample]:
    """Up to `count` random tenants with tasks, each with one of its task ids."""
    connection = await asyncpg.connect(write_url)
    try:
        tenants = [
            r["tenant_id"]
            for r in await connection.fetch(
                f"select distinct tenant_id from task where tenant_id in ({MAIN_TENANTS})"
                " order by 1"
            )
        ]
        chosen = rng.sample(tenants, min(count, len(tenants)))
        rows = await connection.fetch(
            "select distinct on (tenant_id) tenant_id, id from task"
            " where tenant_id = any($1::uuid[]) order by tenant_id, random()",
            chosen,
        )
        return [TenantSample(r["tenant_id"], r["id"]) for r in rows]
    finally:
        await connection.close()


async def timed(connection: asyncpg.Connection, statement: Statement) -> tuple[float, int]:
    started = time.perf_counter_ns()
    rows = await connection.fetch(statement.sql, *statement.args)
    return (time.perf_counter_ns() - started) / 1e6, len(rows)


async def run_sql_bench(
    superuser_url: str,
    write_url: str,
    read_url: str,
    role: str,
    reps: int,
    inner: int,
    reps_c: int,
    seed: int = 2026,
) -> SqlResults:
    rng = random.Random(seed)  # noqa: S311 (sampling, not secrets)
    samples = await load_samples(write_url, 200, rng)
    read = await asyncpg.connect(read_url)
    write = await asyncpg.connect(write_url)
    superuser = await asyncpg.connect(superuser_url)
    results = [QueryResult(q.name, q.request) for q in QUERIES]
    label = "(a) rls / (b) explicit" + (" / (c) correlated" if reps_c else "")
    progress = Progress(f"sql: {label}", reps)
    try:
        await pgstats.track_planning(superuser, True)
        await pgstats.reset(superuser)
        for rep in range(reps):
            sample = rng.choice(samples)
            with_c = rep < reps_c
            async with read.transaction(readonly=True):
                await begin_request(read, sample.tenant_id, role)
                for query, result in zip(QUERIES, results, strict=True):
                    variants = query.variants(sample)
                    await read.fetch(variants.rls.sql, *variants.rls.args)  # warm-up
                    await write.fetch(variants.explicit.sql, *variants.explicit.args)
                    a_times, b_times = [], []
                    for i in range(inner):
                        # a, b then b, a: neither variant always runs first after the
                        # other connection's query (which would favour or penalise it)
                        if i % 2 == 0:
                            a_ms, result.rls_rows = await timed(read, variants.rls)
                            b_ms, result.explicit_rows = await timed(write, variants.explicit)
                        else:
                            b_ms, result.explicit_rows = await timed(write, variants.explicit)
                            a_ms, result.rls_rows = await timed(read, variants.rls)
                        a_times.append(a_ms)
                        b_times.append(b_ms)
                        if with_c and i == 0:
                            c_ms, _ = await timed(read, variants.correlated)
                            result.correlated_ms.append(c_ms)
                    result.rls_ms.append(median(a_times))
                    result.explicit_ms.append(median(b_times))
                    if with_c:
                        result.explicit_for_c_ms.append(median(b_times))
                    if result.rls_rows != result.explicit_rows:
                        raise AssertionError(f"{query.name}: (a) and (b) return different rows")
            progress.advance(f"tenant {str(sample.tenant_id)[:8]}")
        progress.done()
        server = await pgstats.statements(superuser)
        for query, result in zip(QUERIES, results, strict=True):
            variants = query.variants(samples[0])
            result.server_rls = pgstats.find(server, variants.rls.sql)
            result.server_explicit = pgstats.find(server, variants.explicit.sql)
        plans, correlated_plan = await explain_all(read, role, samples[0], reps_c > 0)
    finally:
        await pgstats.track_planning(superuser, False)
        for connection in (read, write, superuser):
            await connection.close()
    return SqlResults(results, reps, inner, reps_c, plans, correlated_plan)


async def explain(connection: asyncpg.Connection, statement: Statement) -> str:
    rows = await connection.fetch(
        "explain (analyze, buffers, costs off, summary off) " + statement.sql, *statement.args
    )
    return "\n".join(r[0] for r in rows)


async def explain_all(
    read: asyncpg.Connection, role: str, sample: TenantSample, correlated: bool = True
) -> tuple[dict[str, str], str]:
    plans: dict[str, str] = {}
    async with read.transaction(readonly=True):
        await begin_request(read, sample.tenant_id, role)
        for query in QUERIES:
            variants = query.variants(sample)
            plans[query.name] = await explain(read, variants.rls)
        correlated_plan = ""
        if correlated:
            correlated_plan = await explain(read, QUERIES[0].variants(sample).correlated)
    return plans, correlated_plan
