"""`make bench` (= `python -m bench`): every benchmark, one table, bench/RESULTS.md.

BENCH_QUICK=1 runs a smaller version (200 tenants when the data is generated, fewer
repetitions); BENCH_KEEP_SERVER=1 leaves the bench PostgreSQL running afterwards.
Both modes also make (once) and measure the admin benchmark's large tenant, bench-big with
200,000 tasks (bench/admin_bench.py).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import server


@dataclass(frozen=True)
class Config:
    name: str
    tenants: int
    sql_reps: int
    sql_inner: int
    sql_reps_c: int
    http_reps: int
    http_seconds: float  # wrk -d per variant and repetition
    http_warmup_seconds: float
    roundtrip_requests: int
    admin_reps: int


# sql_inner 15: a 0.1 ms query needs more runs per repetition than the 2 cores' noise
FULL = Config("full", 1_000, 100, 15, 20, 3, 30, 10, 100, 20)
QUICK = Config("quick (BENCH_QUICK=1)", 200, 30, 3, 5, 3, 5, 3, 30, 10)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{psutil.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


async def run(config: Config, database: server.BenchDatabase, started: float) -> str:
    from bench import (
        admin_bench,
        admin_data,
        admin_report,
        correlated,
        datagen,
        http_bench,
        report,
        roundtrips,
        sql_bench,
    )
    from bench.servers import SERVING, AppServer

    await datagen.generate(database.write_url, config.tenants)
    big_tenant = await admin_data.ensure_big_tenant(database.write_url)
    await correlated.prepare(database.write_url, database.authenticated_role)
    size = await datagen.dataset_size(database.write_url)
    version = await sql_bench.server_version(database.write_url)

    sql = await sql_bench.run_sql_bench(
        database.superuser_url,
        database.write_url,
        database.read_url,
        database.authenticated_role,
        config.sql_reps,
        config.sql_inner,
        config.sql_reps_c,
    )

    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    servers = {v: AppServer(v, database.env(), log_dir) for v in http_bench.VARIANTS}
    try:
        for app_server in servers.values():
            app_server.wait_ready()
        callers = await http_bench.load_callers(database.write_url, 200, seed=3)
        http_bench.check_same_responses(servers, callers)
        http = await http_bench.run_http_bench(
            servers,
            callers,
            config.http_reps,
            config.http_seconds,
            config.http_warmup_seconds,
            log_dir,
        )
        counts = await roundtrips.count_statements(
            database.superuser_url, servers, callers, config.roundtrip_requests
        )
        peak_rss = {v: s.peak_rss_bytes() for v, s in servers.items()}
    finally:
        for app_server in servers.values():
            app_server.stop()
    admin_failure = ""
    try:
        admin = await admin_bench.run_admin_bench(database, big_tenant, config.admin_reps, log_dir)
    except Exception as exc:  # the measurements above are kept; the failure is reported
        admin, admin_failure = None, f"**The admin benchmark failed**: {exc!r} (see {log_dir})"

    minutes = (time.monotonic() - started) / 60
    load = os.getloadavg()[1]
    rows = report.sql_rows(sql) + report.http_rows(http) + report.roundtrip_rows(counts)
    rows.append(report.memory_row(peak_rss))
    header = "\n".join(
        [
            "# Benchmarks: what tenant isolation costs",
            "",
            f"`make bench`, {config.name} run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{minutes:.1f} min. {size['tenants']:,} tenants, {size['tasks']:,} tasks "
            f"(and {admin_data.SLUG}, {big_tenant.tasks:,} tasks, for the admin benchmark "
            "only). "
            f"{version}. {machine()}; load average over the last 5 min {load:.1f} "
            "(anything above ~2 means other processes competed for the cores).",
            "",
            "(a) the real request path: RLS, read pool, a READ ONLY transaction switched by "
            "`auth.begin_request`. (b) the baseline: the write client with an explicit "
            "`tenant_id = $n` filter, no transaction. (c) Drizzle's Neon policy form "
            "`(select auth.tenant_id() = tenant_id)` on a copy of task. (d) the floor "
            "(bench/floor_app.py): the same two responses and the same security (JWT, "
            "READ ONLY transaction on the read pool, `auth.begin_request`, RLS) as two raw "
            "Starlette routes with asyncpg and orjson. Every ratio is "
            "the median of per-repetition ratios, the variants alternating within each "
            f"repetition; [p25-p75] is their spread. SQL: {sql.reps} repetitions "
            f"(each the median of {sql.inner} runs per variant), (c) only in the first "
            f"{sql.reps_c} (once each: it takes seconds). HTTP: after a "
            f"{config.http_warmup_seconds:g} s warm-up of each, {config.http_reps} "
            f"repetitions of `wrk -t2 -c32 -d{config.http_seconds:g}s` per variant and "
            f"endpoint, one uvicorn worker per variant ({' '.join(SERVING)}); wrk "
            "shares the cores with the server and PostgreSQL, so absolute figures depend "
            "on the machine: read the ratios.",
        ]
    )
    sections = [
        ("Inside the server (SQL level, pg_stat_statements)", report.server_view(sql)),
        (
            "Statements per request (HTTP level, pg_stat_statements)",
            report.statements_detail(counts),
        ),
        ("Plans of (a): EXPLAIN (ANALYZE, BUFFERS)", report.plans(sql, sql.queries)),
    ]
    if admin is None:
        sections.append(("Admin, large tenant: piccolo-admin on 200,000 tasks", admin_failure))
        report.write(header, rows, sections)
        return report.table(rows) + "\n\n" + admin_failure
    sections += [
        ("Admin, large tenant: piccolo-admin on 200,000 tasks", admin_report.admin_section(admin)),
        (
            f"Admin, large tenant: plans of the requests over {admin_bench.PLAN_MS} ms",
            admin_report.admin_plans(admin),
        ),
    ]
    report.write(header, rows, sections)
    return report.table(rows) + "\n\n" + admin_report.admin_table(admin)


def main() -> int:
    config = QUICK if os.environ.get("BENCH_QUICK") == "1" else FULL
    started = time.monotonic()
    print(f"bench: {config.name}; bench database in {server.DATA_DIR}", flush=True)
    database = server.start()
    try:
        table = asyncio.run(run(config, database, started))
    finally:
        if os.environ.get("BENCH_KEEP_SERVER") != "1":
            server.stop()
    print()
    print(table)
    print()
    results = Path(__file__).resolve().parent / "RESULTS.md"
    print(f"bench: written to {results} in {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
