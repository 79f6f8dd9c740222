"""Fairness: tenant B's latency while tenant A floods the API, with and without the
per-tenant limit (TENANT_MAX_CONCURRENCY, refresh/web/fairness.py).

    .venv/bin/python -m bench.fairness [LIMIT ...]   # prints a markdown table

On the bench's own embedded PostgreSQL (bench/server.py), one uvicorn worker of the real
app with the default read pool (10 connections) per variant. B sends GET
/api/tasks?limit=50 one at a time, alone, then while A floods the same endpoint from
wrk at concurrency 64; the figure is B's p99 under the flood over its p99
alone (the issue's target: within 2x with the limit). Alone and under the flood
alternate ROUNDS times on the same server, and the figure is the median of the rounds'
ratios: B's unloaded p99 moves by as much as the effect from one server start to the
next (bench/RESULTS.md), less within one. One variant per LIMIT given
(TENANT_MAX_CONCURRENCY; 0 is no limit), by default 0, 1, 2 and 4;
BENCH_FLOOD_THREADS=1 gives A's wrk one thread instead of two.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx

from bench import server, wrk
from bench.http_client import Request
from bench.servers import AppServer

FLOOD_CONCURRENCY = 64
# wrk's threads for A's flood: 1 leaves the server more of the 2 cores (bench/NOTES.md)
FLOOD_THREADS = int(os.environ.get("BENCH_FLOOD_THREADS", "2"))
FLOOD_SECONDS = 15
PATH = "/api/tasks?limit=50"
B_REQUESTS = 300  # under the flood (fewer if its window closes first)
B_ALONE_REQUESTS = 1_000  # alone: more, so its p99 (the ratio's denominator) is steadier
LIMITS = (0, 1, 2, 4)  # TENANT_MAX_CONCURRENCY of each variant (0: no limit)
ROUNDS = int(os.environ.get("BENCH_FAIRNESS_ROUNDS", "3"))  # alone, then flooded, each


async def seed(write_url: str) -> dict[str, uuid.UUID]:
    """Two tenants of 2,000 tasks each, written in SQL (their slugs are new each run)."""
    connection = await asyncpg.connect(write_url)
    tenants = {}
    try:
        for name in ("a", "b"):
            slug = f"fair-{name}-{uuid.uuid4().hex[:6]}"
            tenant_id = await connection.fetchval(
                "insert into tenant (id, slug, name) values (gen_random_uuid(), $1, $1)"
                " returning id",
                slug,
            )
            await connection.execute(
                "insert into member (id, tenant_id, user_id, email, display_name, role)"
                " values (gen_random_uuid(), $1, 'user-1', $2, 'Bench', 'member')",
                tenant_id,
                f"user-1@{slug}.test",
            )
            project = await connection.fetchval(
                "insert into project (id, tenant_id, name) values (gen_random_uuid(), $1, 'p')"
                " returning id",
                tenant_id,
            )
            await connection.execute(
                "insert into task (id, tenant_id, project_id, title, priority)"
                " select gen_random_uuid(), $1, $2, 'task ' || i, 1 + i % 5"
                " from generate_series(1, 2000) i",
                tenant_id,
                project,
            )
            tenants[name] = tenant_id
    finally:
        await connection.close()
    return tenants


def token(tenant_id: uuid.UUID) -> str:
    from refresh.db.claims import TenantRole
    from refresh.web.tokens import issue_token
    from settings import get_settings

    # the member each tenant of this bench has (make_tenants): the API checks membership
    return issue_token(get_settings(), tenant_id, "user-1", TenantRole.member, 3600)


async def b_latencies(
    url: str, bearer: str, count: int, deadline: float = float("inf")
) -> list[float]:
    """B's requests one at a time: `count` of them, fewer if the deadline comes first."""
    times = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            response = await client.get(url, headers={"Authorization": f"Bearer {bearer}"})
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return times


def p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98] * 1000


def measure(
    variant: str, limit: int, env: dict[str, str], tokens: dict[str, str]
) -> dict[str, Any]:
    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    app = AppServer("rls", {**env, "TENANT_MAX_CONCURRENCY": str(limit)}, log_dir)
    loop = asyncio.new_event_loop()
    rounds: list[dict[str, Any]] = []
    try:
        app.wait_ready()
        url = f"http://127.0.0.1:{app.port}{PATH}"
        loop.run_until_complete(b_latencies(url, tokens["b"], B_REQUESTS))  # warm up
        script = wrk.write_script(log_dir / "fairness-a.lua", [Request(PATH, tokens["a"])])
        for _ in range(ROUNDS):
            rounds.append(loop.run_until_complete(one_round(app.port, url, script, tokens)))
    finally:
        loop.close()
        app.stop()
    ratios = [r["loaded"] / r["alone"] for r in rounds]
    return {
        "variant": variant,
        "alone": statistics.median(r["alone"] for r in rounds),
        "loaded": statistics.median(r["loaded"] for r in rounds),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "a_ok": sum(r["a_ok"] for r in rounds),
        "a_429": sum(r["a_429"] for r in rounds),
        "b_requests": sum(r["b_requests"] for r in rounds),
    }


async def one_round(port: int, url: str, script: Any, tokens: dict[str, str]) -> dict[str, Any]:
    """B alone, then B while A floods with wrk (C, 64 connections: a Python client could
    not keep the server busy), from 2 s before B's requests until after them."""
    alone = await b_latencies(url, tokens["b"], B_ALONE_REQUESTS)
    flood = asyncio.create_task(
        wrk.run(port, script, FLOOD_SECONDS, connections=FLOOD_CONCURRENCY, threads=FLOOD_THREADS)
    )
    await asyncio.sleep(2)
    deadline = time.monotonic() + FLOOD_SECONDS - 4
    loaded = await b_latencies(url, tokens["b"], B_REQUESTS, deadline)
    a = await flood
    return {
        "alone": p99(alone),
        "loaded": p99(loaded),
        "a_ok": a.requests - a.non_2xx,
        "a_429": a.non_2xx,
        "b_requests": len(loaded),
    }


def main() -> None:
    database = server.start()
    env = database.env()
    os.environ.update({k: v for k, v in env.items() if k.endswith("DATABASE_URL")})
    os.environ["ENVIRONMENT"] = "development"
    tenants = asyncio.run(seed(database.write_url))
    tokens = {name: token(tenant_id) for name, tenant_id in tenants.items()}
    if any(not a.isdigit() for a in sys.argv[1:]):
        raise SystemExit("usage: python -m bench.fairness [LIMIT ...] (whole numbers, 0: no limit)")
    limits = [int(a) for a in sys.argv[1:]] or list(LIMITS)
    rows = [
        measure(f"limit {n} (TENANT_MAX_CONCURRENCY={n})" if n else "no limit", n, env, tokens)
        for n in limits
    ]
    print(
        f"One worker; {ROUNDS} rounds per variant, each B alone ({B_ALONE_REQUESTS:,} "
        f"requests) then under A's flood (up to {B_REQUESTS}; wrk -t{FLOOD_THREADS} "
        f"-c{FLOOD_CONCURRENCY}, {FLOOD_SECONDS} s); medians of the rounds; load average "
        f"(1 min) {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| variant | B p99 alone | B p99 while A floods (c=64) | ratio (median) | each round"
        " | target <= 2x | A's requests 2xx / refused | B's requests under the flood |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        each = ", ".join(f"{x:.2f}x" for x in r["ratios"])
        print(
            f"| {r['variant']} | {r['alone']:.1f} ms | {r['loaded']:.1f} ms | {r['ratio']:.2f}x"
            f" | {each} | {'yes' if r['ratio'] <= 2 else 'no'} | {r['a_ok']:,} / {r['a_429']:,}"
            f" | {r['b_requests']} |"
        )


if __name__ == "__main__":
    main()
