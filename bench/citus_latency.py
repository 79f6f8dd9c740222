"""List and fetch latency of the API on Citus against one server, side by side in one run:
`python -m bench.citus_latency` (BENCH_QUICK=1 for fewer requests).

Two databases with the same seed: one on a scratch embedded PostgreSQL, one on a Citus
cluster (a coordinator and two workers, tests/citus, built and cached like
`make test-citus`), each migrated by the real CLI (on Citus the placement migrations
distribute the tables, 32 shards), both seeded with `piccolo tenants demo` plus BENCH_TASKS
tasks for acme. Each database is measured by a process of its own (settings are read once
per process), sequential requests through the ASGI app, alternating rounds, medians.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.stats import median, percentile

ROOT = Path(__file__).resolve().parents[1]
QUICK = bool(os.environ.get("BENCH_QUICK"))
REQUESTS = 100 if QUICK else 400  # per endpoint and round
ROUNDS = 3 if QUICK else 5
TASKS = int(os.environ.get("BENCH_TASKS", "2000"))
SEED_TASKS = """
insert into task (tenant_id, project_id, title, priority)
select p.tenant_id, p.id, 'bench ' || g, 1 + g % 5
  from (select tenant_id, id from project
         where tenant_id = (select id from tenant where slug = 'acme') limit 1) p,
       generate_series(1, {n}) g
"""


def piccolo(env: dict[str, str], *args: str) -> None:
    command = [str(Path(sys.executable).parent / "piccolo"), *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)  # noqa: S603


async def measure() -> dict[str, list[float]]:
    """In the measuring process: sequential requests, one endpoint after the other."""
    import httpx

    from app import create_app
    from refresh.db.claims import TenantRole
    from refresh.db.clients import write_client
    from refresh.web.tokens import issue_token
    from settings import get_settings

    application = create_app()
    timings: dict[str, list[float]] = {"list": [], "fetch": []}
    async with application.router.lifespan_context(application):
        [acme] = await write_client.fetch("select id from tenant where slug = 'acme'")
        [task] = await write_client.fetch(
            "select id from task where tenant_id = $1 limit 1", acme["id"]
        )
        [member] = await write_client.fetch(
            "select user_id from member where tenant_id = $1 limit 1", acme["id"]
        )
        token = issue_token(get_settings(), acme["id"], member["user_id"], TenantRole.member)
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            urls = {"list": "/api/tasks?limit=50", "fetch": f"/api/tasks/{task['id']}"}
            for name, url in urls.items():
                for _ in range(REQUESTS // 10):  # warm-up
                    (await client.get(url, headers=headers)).raise_for_status()
                for _ in range(REQUESTS):
                    start = time.perf_counter()
                    (await client.get(url, headers=headers)).raise_for_status()
                    timings[name].append((time.perf_counter() - start) * 1000)
    return timings


def prepare(env: dict[str, str]) -> None:
    from refresh.db.bootstrap import run_psql

    piccolo(env, "migrations", "forwards", "all")
    piccolo(env, "tenants", "demo")
    run_psql(env["WRITE_DATABASE_URL"], SEED_TASKS.format(n=TASKS) + ";\n")


def run_round(env: dict[str, str]) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.citus_latency", "--measure"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    result: dict[str, list[float]] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> None:
    os.environ.setdefault("ENVIRONMENT", "test")
    from refresh.db.bootstrap import bootstrap
    from refresh.db.citus_bootstrap import bootstrap_citus
    from refresh.db.embedded import socket_url, start_server, stop_server
    from settings import Settings
    from tests.citus.build import ensure_citus
    from tests.citus.cluster import CitusCluster

    settings = Settings(write_database_url=None, read_database_url=None)
    name = f"bench_citus_{uuid.uuid4().hex[:8]}"
    ensure_citus()
    work = Path(tempfile.mkdtemp(prefix="bench-citus-"))
    embedded = work / "pg"
    with CitusCluster(work / "cluster") as cluster:
        one_url = socket_url(start_server(embedded), "postgres", "postgres")
        try:
            bootstrap(one_url, name, settings)
            bootstrap_citus(cluster.coordinator_url, cluster.worker_urls, name, settings)
            targets: dict[str, dict[str, str]] = {}
            for label, superuser in (("one server", one_url), ("citus", cluster.coordinator_url)):
                base = superuser.replace("@/postgres?", f"@/{name}?")
                targets[label] = {
                    **os.environ,
                    "WRITE_DATABASE_URL": base.replace("postgres@", f"{settings.admin_role}@"),
                    "READ_DATABASE_URL": base.replace(
                        "postgres@", f"{settings.authenticator_role}@"
                    ),
                }
                prepare(targets[label])
            results: dict[str, dict[str, list[float]]] = {
                t: {"list": [], "fetch": []} for t in targets
            }
            for _ in range(ROUNDS):
                for label, env in targets.items():
                    for endpoint, values in run_round(env).items():
                        results[label][endpoint] += values
            report(results)
        finally:
            stop_server(embedded)


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"API latency, {TASKS} tasks of one tenant, sequential requests, ms")
    print(f"{'endpoint':28} {'one server p50/p99':>20} {'citus p50/p99':>16} {'ratio p50':>10}")
    for endpoint, title in (("list", "GET /api/tasks?limit=50"), ("fetch", "GET /api/tasks/{id}")):
        one, citus = results["one server"][endpoint], results["citus"][endpoint]
        print(
            f"{title:28} {median(one):>11.2f}/{percentile(one, 99):<8.2f}"
            f" {median(citus):>7.2f}/{percentile(citus, 99):<8.2f}"
            f" {median(citus) / median(one):>9.2f}"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        print(json.dumps(asyncio.run(measure())))
    else:
        main()
