"""The HTTP level alone, for before/after figures of one change: (a), (b) and (d) under wrk.

    python -m bench.throughput [REPS] [SECONDS] [WARMUP_SECONDS]

Defaults 3 x 5 s after 3 s (`make bench`'s quick mode). Needs the bench data (`make
bench` or `BENCH_QUICK=1 make bench` once). Prints the HTTP rows of the bench table.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bench import server

if TYPE_CHECKING:
    from bench.http_bench import EndpointResult


async def http_results(
    database: server.BenchDatabase, reps: int, seconds: float, warmup: float
) -> list[EndpointResult]:
    """(a), (b) and (d) as uvicorn processes on `database`, measured under wrk."""
    from bench import http_bench
    from bench.servers import AppServer

    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    servers = {v: AppServer(v, database.env(), log_dir) for v in http_bench.VARIANTS}
    try:
        for app_server in servers.values():
            app_server.wait_ready()
        callers = await http_bench.load_callers(database.write_url, 200, seed=3)
        http_bench.check_same_responses(servers, callers)
        return await http_bench.run_http_bench(servers, callers, reps, seconds, warmup, log_dir)
    finally:
        for app_server in servers.values():
            app_server.stop()


async def measure(reps: int, seconds: float, warmup: float) -> str:
    from bench import report
    from bench.servers import serving

    http = await http_results(server.start(migrate=False), reps, seconds, warmup)
    title = (
        f"wrk -t2 -c32, {reps} x {seconds:g} s after {warmup:g} s; (a) and (b) served with "
        f"{serving('rls') or 'uvicorn defaults'}; load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    return title + "\n\n" + report.table(report.http_rows(http))


def cli(measure: Callable[[int, float, float], Coroutine[Any, Any, str]]) -> int:
    """`python -m bench.X [REPS] [SECONDS] [WARMUP_SECONDS]` (3, 5, 3 by default): print
    what `measure` returns, then stop the bench server unless BENCH_KEEP_SERVER=1."""
    args = [float(a) for a in sys.argv[1:4]]
    reps, seconds, warmup = int(args[0]) if args else 3, *(args[1:] + [5.0, 3.0][len(args[1:]) :])
    try:
        print(asyncio.run(measure(reps, seconds, warmup)))
    finally:
        if os.environ.get("BENCH_KEEP_SERVER") != "1":
            server.stop()
    return 0


def main() -> int:
    return cli(measure)


if __name__ == "__main__":
    sys.exit(main())
