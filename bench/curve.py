"""The cost curve: the SQL and HTTP benchmarks at 100k, 1M and 10M tasks, side by side.

    python -m bench.curve [SIZE ...]      (make bench-curve; SIZE among 100k 1m 10m)

Each size is a database of its own on the bench server (refresh_bench_100k, _1m, _10m):
N tenants x 1,000 tasks (100, 1,000, 10,000 tenants), made once by bench/datagen.py and
kept (bench/NOTES.md says how long and how much disk). A tenant keeps its 1,000 tasks at every
size: what grows is the table around it, as it does for a tenant of a growing service, so
a flat curve means a request's cost does not depend on how many other tenants there are.

For each size, one after the other: the SQL benchmark of `make bench` without (c) (the
correlated policy scans the whole table: seconds per query at 10M), then the HTTP
benchmark ((a), (b) and the floor (d) under wrk -t2 -c32, the variants alternating).
Every size's data is made before the first measurement. A run of every size writes
bench/CURVE.md (the table) and bench/curve.svg (the plot) that the README shows; a run of
some sizes only prints its table. Each repetition samples up to 200 of the size's tenants
(as `make bench` does), so the curve shows the cost of a bigger table and deeper indexes,
not of 10,000 tenants' rows competing for the cache.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench import server

if TYPE_CHECKING:
    from bench.http_bench import EndpointResult
    from bench.sql_bench import SqlResults

BENCH_DIR = Path(__file__).resolve().parent
CURVE_MD = BENCH_DIR / "CURVE.md"
CURVE_SVG = BENCH_DIR / "curve.svg"
SQL_REPS, SQL_INNER = 100, 15  # as `make bench`: a 0.2 ms query needs them
HTTP_REPS, HTTP_SECONDS, HTTP_WARMUP = 3, 10.0, 5.0


@dataclass(frozen=True)
class Size:
    label: str  # as shown: 10M
    tenants: int

    @property
    def database(self) -> str:
        return f"{server.DATABASE}_{self.label.lower()}"


SIZES = (Size("100k", 100), Size("1M", 1_000), Size("10M", 10_000))


@dataclass
class Point:
    size: Size
    tasks: int
    sql: SqlResults
    http: list[EndpointResult]
    seconds: float


async def prepare(size: Size) -> None:
    """The size's database and data (generated the first time only)."""
    from bench import datagen

    database = server.start(database_name=size.database)
    await datagen.generate(database.write_url, size.tenants)


async def measure(size: Size) -> Point:
    from bench import datagen, sql_bench, throughput

    started = time.monotonic()
    database = server.start(migrate=False, database_name=size.database)
    tasks = (await datagen.dataset_size(database.write_url))["tasks"]
    print(f"curve: {size.label} ({tasks:,} tasks)", flush=True)
    sql = await sql_bench.run_sql_bench(
        database.superuser_url,
        database.write_url,
        database.read_url,
        database.authenticated_role,
        SQL_REPS,
        SQL_INNER,
        reps_c=0,  # no (c): the correlated policy scans the whole table (seconds at 10M)
    )
    http = await throughput.http_results(database, HTTP_REPS, HTTP_SECONDS, HTTP_WARMUP)
    return Point(size, tasks, sql, http, time.monotonic() - started)


def main() -> int:
    from bench import curve_report

    wanted = {a.lower() for a in sys.argv[1:]}
    unknown = wanted - {s.label.lower() for s in SIZES}
    if unknown:
        print(f"unknown size {sorted(unknown)}; sizes: {', '.join(s.label for s in SIZES)}")
        return 2
    sizes = [s for s in SIZES if not wanted or s.label.lower() in wanted]
    try:
        for size in sizes:  # every size's data first: a load must not overlap a measurement
            asyncio.run(prepare(size))
        started = time.monotonic()
        points = [asyncio.run(measure(size)) for size in sizes]
    finally:
        if os.environ.get("BENCH_KEEP_SERVER") != "1":
            server.stop()
    header = (
        f"`python -m bench.curve {' '.join(s.label for s in sizes)}` (make bench-curve), "
        f"run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{(time.monotonic() - started) / 60:.1f} min; load average over the last 5 min "
        f"{os.getloadavg()[1]:.1f}."
    )
    text = curve_report.markdown(header, points)
    if len(sizes) == len(SIZES):  # the files of record hold every size, never a part
        CURVE_MD.write_text(text)
        CURVE_SVG.write_text(curve_report.chart(points))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
