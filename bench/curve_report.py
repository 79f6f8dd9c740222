"""bench/CURVE.md and bench/curve.svg from the points bench/curve.py measured."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bench.plot import Panel, svg
from bench.report import FLOOR_TARGET, HTTP_TARGET, SQL_TARGET
from bench.stats import median

if TYPE_CHECKING:
    from bench.curve import Point
    from bench.http_bench import EndpointResult
    from bench.sql_bench import QueryResult


def _cells(values: Sequence[str]) -> str:
    return " / ".join(values)


def _sql_row(points: Sequence[Point], index: int) -> str:
    queries: list[QueryResult] = [p.sql.queries[index] for p in points]
    a = _cells([f"{median(q.rls_ms):.2f}" for q in queries])
    b = _cells([f"{median(q.explicit_ms):.2f}" for q in queries])
    ratio = _cells([q.a_over_b.text() for q in queries])
    met = all(q.a_over_b.median <= SQL_TARGET for q in queries)
    return f"| {queries[0].name} | {a} ms | {b} ms | {ratio} | {'yes' if met else '**no**'} |"


def _http_metric(
    points: Sequence[Point], index: int, what: str, value: Callable[[EndpointResult], str]
) -> str:
    endpoints: list[EndpointResult] = [p.http[index] for p in points]
    return f"| `{endpoints[0].name}` | {what} | {_cells([value(e) for e in endpoints])} |"


def markdown(header: str, points: Sequence[Point]) -> str:
    from bench.curve import HTTP_REPS, HTTP_SECONDS, HTTP_WARMUP

    sizes = _cells([p.size.label for p in points])
    lines = [
        "# Cost curve: the same requests as the data grows",
        "",
        header,
        "",
        "Sizes: "
        + ", ".join(
            f"{p.size.label} = {p.size.tenants:,} tenants x 1,000 tasks ({p.tasks:,} tasks, "
            f"measured in {p.seconds / 60:.1f} min)"
            for p in points
        )
        + ". Every cell holds one figure per size, in that order.",
        "",
        "![cost curve](curve.svg)",
        "",
        f"## SQL: one query of a random tenant ({sizes})",
        "",
        "(a) RLS in the request transaction, (b) the write client with an explicit "
        "`tenant_id = $n`; medians over the repetitions (each the median of "
        f"{points[0].sql.inner} runs per variant, alternating; "
        f"{points[0].sql.reps} repetitions, a random tenant each).",
        "",
        "| query | (a) RLS | (b) explicit filter | (a)/(b) median [p25-p75] "
        f"| (a)/(b) <= {SQL_TARGET:.2f} at every size |",
        "|---|---|---|---|---|",
    ]
    lines += [_sql_row(points, i) for i in range(len(points[0].sql.queries))]
    lines += [
        "",
        f"## HTTP: wrk -t2 -c32, one uvicorn worker per variant ({sizes})",
        "",
        "(a) the app, (b) the baseline app (explicit filter, no transaction), (d) the floor "
        "(raw Starlette + asyncpg, same security); medians over "
        f"{HTTP_REPS} repetitions of {HTTP_SECONDS:g} s after a {HTTP_WARMUP:g} s warm-up "
        "(`make bench`: 3 x 30 s after 10 s), the variants alternating; with so few, "
        "[p25-p75] is only a hint of the spread. Absolute req/s depend on the machine "
        "and differ from `make bench`'s run: read the ratios and "
        "how they move with the size. Targets of `make bench`: "
        f"(a)/(b) >= {HTTP_TARGET:.2f}, (a)/(d) >= {FLOOR_TARGET:.2f}.",
        "",
        "| endpoint | figure | value |",
        "|---|---|---|",
    ]
    for i in range(len(points[0].http)):
        lines += [
            _http_metric(points, i, "(a) req/s", lambda e: f"{median(e.rls.throughputs):,.0f}"),
            _http_metric(
                points, i, "(b) req/s", lambda e: f"{median(e.baseline.throughputs):,.0f}"
            ),
            _http_metric(points, i, "(d) req/s", lambda e: f"{median(e.floor.throughputs):,.0f}"),
            _http_metric(points, i, "(a)/(b) [p25-p75]", lambda e: e.throughput_ratio.text()),
            _http_metric(points, i, "(a)/(d) [p25-p75]", lambda e: e.floor_ratio.text()),
            _http_metric(points, i, "(a) p50 latency, ms", lambda e: f"{e.rls.p50:.1f}"),
            _http_metric(points, i, "(a) p99 latency, ms", lambda e: f"{e.rls.p99:.1f}"),
            _http_metric(points, i, "(d) p99 latency, ms", lambda e: f"{e.floor.p99:.1f}"),
            _http_metric(
                points,
                i,
                "(a) CPU per request, app + PostgreSQL, ms",
                lambda e: f"{median(e.rls.app_cpu_ms):.2f} + {median(e.rls.db_cpu_ms):.2f}",
            ),
        ]
    return "\n".join(lines) + "\n"


def chart(points: Sequence[Point]) -> str:
    labels = [p.size.label + " tasks" for p in points]
    sql_series = {
        q.name: [median(p.sql.queries[i].rls_ms) for p in points]
        for i, q in enumerate(points[0].sql.queries)
    }
    http_series = {
        f"(a) {e.name}": [median(p.http[i].rls.throughputs) for p in points]
        for i, e in enumerate(points[0].http)
    } | {
        f"(d) {e.name}": [median(p.http[i].floor.throughputs) for p in points]
        for i, e in enumerate(points[0].http)
    }
    return svg(
        [
            Panel("SQL under RLS: time per query", "ms", labels, sql_series),
            Panel("HTTP: throughput, one worker", "req/s", labels, http_series),
        ]
    )
