"""Fairness: tenant B's latency while tenant A floods the API, with and without the
per-tenant limit (TENANT_MAX_CONCURRENCY, refresh/web/fairness.py).

    .venv/bin/python -m bench.fairness          # ~2 min; prints a markdown table

On the bench's own embedded PostgreSQL (bench/server.py), one uvicorn worker of the real
app with the default read pool (10 connections) per variant. B sends GET
/api/tasks?limit=50 one at a time, alone, then while A floods the same endpoint from
another process at concurrency 64; the figure is B's p99 under the flood over its p99
alone (the issue's target: within 2x with the limit).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx

from bench import server
from bench.servers import AppServer

FLOOD_CONCURRENCY = 64
B_REQUESTS = 300
LIMIT = 4


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

    return issue_token(get_settings(), tenant_id, "bench", TenantRole.member, 3600)


def flood(url: str, bearer: str, seconds: float, counts: Any) -> None:
    """A's flood, in a process of its own (B's timings must not share its event loop)."""

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        while time.monotonic() < deadline:
            response = await client.get(url, headers={"Authorization": f"Bearer {bearer}"})
            with counts.get_lock():
                counts[0 if response.status_code == 200 else 1] += 1

    async def main() -> None:
        limits = httpx.Limits(max_connections=FLOOD_CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(worker(client, deadline) for _ in range(FLOOD_CONCURRENCY)))

    asyncio.run(main())


async def b_latencies(url: str, bearer: str) -> list[float]:
    times = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(B_REQUESTS):
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
    try:
        app.wait_ready()
        url = f"http://127.0.0.1:{app.port}/api/tasks?limit=50"
        asyncio.run(b_latencies(url, tokens["b"]))  # warm up
        alone = asyncio.run(b_latencies(url, tokens["b"]))
        counts = multiprocessing.Array("i", 2)
        flooding = multiprocessing.Process(target=flood, args=(url, tokens["a"], 600, counts))
        flooding.start()
        time.sleep(2)  # the flood at full strength
        started = time.monotonic()
        loaded = asyncio.run(b_latencies(url, tokens["b"]))
        elapsed = time.monotonic() - started
        flooding.terminate()
        flooding.join()
    finally:
        app.stop()
    return {
        "variant": variant,
        "alone": p99(alone),
        "loaded": p99(loaded),
        "a_ok": counts[0],
        "a_429": counts[1],
        "seconds": elapsed,
    }


def main() -> None:
    database = server.start()
    env = database.env()
    os.environ.update({k: v for k, v in env.items() if k.endswith("DATABASE_URL")})
    os.environ["ENVIRONMENT"] = "development"
    tenants = asyncio.run(seed(database.write_url))
    tokens = {name: token(tenant_id) for name, tenant_id in tenants.items()}
    rows = [
        measure("no limit (TENANT_MAX_CONCURRENCY=0)", 0, env, tokens),
        measure(f"limit {LIMIT} (TENANT_MAX_CONCURRENCY={LIMIT})", LIMIT, env, tokens),
    ]
    print(
        "| variant | B p99 alone | B p99 while A floods (c=64) | ratio | target <= 2x"
        " | A's requests 200 / 429 |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["loaded"] / r["alone"]
        print(
            f"| {r['variant']} | {r['alone']:.1f} ms | {r['loaded']:.1f} ms | {ratio:.2f}x"
            f" | {'yes' if ratio <= 2 else 'no'} | {r['a_ok']:,} / {r['a_429']:,} |"
        )


if __name__ == "__main__":
    main()
