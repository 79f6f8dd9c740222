"""One table of every figure and its target, and bench/RESULTS.md with the details behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.http_bench import EndpointResult
from bench.roundtrips import RequestStatements
from bench.sql_bench import QueryResult, SqlResults
from bench.stats import Spread, median, ratios

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
NOTES = BENCH_DIR / "NOTES.md"  # hand-written: findings, profiles, before/after figures
SQL_TARGET = 1.10
HTTP_TARGET = 0.90
FLOOR_TARGET = 0.80  # (a)/(d) throughput
FLOOR_P99_TARGET = 1.50  # (a)/(d) p99 latency
RSS_TARGET_MB = 250
ROUND_TRIPS_TARGET = 3  # a read: BEGIN with role + claims, the query, COMMIT with the reset


@dataclass(frozen=True)
class Row:
    check: str
    rls: str
    baseline: str
    ratio: str
    target: str
    met: str
    correlated: str = ""


def ms_text(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.2f} ms"


def yes_no(ok: bool) -> str:
    return "yes" if ok else "**no**"


def sql_rows(sql: SqlResults) -> list[Row]:
    rows = []
    for q in sql.queries:
        a_b = q.a_over_b
        correlated = ""
        if q.correlated_ms:
            c_b = q.c_over_b
            correlated = f"{ms_text(median(q.correlated_ms))}, {c_b.median:,.0f}x" + (
                f" [{c_b.p25:,.0f}-{c_b.p75:,.0f}]" if c_b.median >= 10 else ""
            )
        rows.append(
            Row(
                f"SQL: {q.name}",
                ms_text(median(q.rls_ms)),
                ms_text(median(q.explicit_ms)),
                a_b.text(),
                f"<= {SQL_TARGET:.2f}",
                yes_no(a_b.median <= SQL_TARGET),
                correlated,
            )
        )
    return rows


def http_rows(http: list[EndpointResult]) -> list[Row]:
    rows = []
    for e in http:
        ratio = e.throughput_ratio
        rows.append(
            Row(
                f"HTTP: `{e.name}` throughput, c=32",
                f"{median(e.rls.throughputs):,.0f} req/s",
                f"{median(e.baseline.throughputs):,.0f} req/s",
                ratio.text(),
                f">= {HTTP_TARGET:.2f}",
                yes_no(ratio.median >= HTTP_TARGET),
            )
        )
        # The floor is the same security without the ORM and the middleware stack: where
        # (d)/(b) is below the (a)/(b) target, meeting it would need the app to outrun (d).
        ceiling = Spread.of(ratios(e.floor.throughputs, e.baseline.throughputs))
        rows.append(
            Row(
                f"HTTP: `{e.name}` throughput of the floor (d) against the baseline (b)",
                f"(d) {median(e.floor.throughputs):,.0f} req/s",
                f"{median(e.baseline.throughputs):,.0f} req/s",
                f"(d)/(b) {ceiling.text()}",
                "reported",
                "-",
            )
        )
        floor = e.floor_ratio
        rows.append(
            Row(
                f"HTTP: `{e.name}` throughput against the floor (d)",
                f"{median(e.rls.throughputs):,.0f} req/s",
                f"(d) {median(e.floor.throughputs):,.0f} req/s",
                f"(a)/(d) {floor.text()}",
                f">= {FLOOR_TARGET:.2f}",
                yes_no(floor.median >= FLOOR_TARGET),
            )
        )
        p99_ratio = e.rls.p99 / e.floor.p99
        rows.append(
            Row(
                f"HTTP: `{e.name}` p99 latency against the floor (d)",
                f"{e.rls.p99:.1f} ms",
                f"(d) {e.floor.p99:.1f} ms",
                f"(a)/(d) {p99_ratio:.2f}",
                f"<= {FLOOR_P99_TARGET:.2f}",
                yes_no(p99_ratio <= FLOOR_P99_TARGET),
            )
        )
        rows.append(
            Row(
                f"HTTP: `{e.name}` app CPU per request against the floor (d)",
                f"{median(e.rls.app_cpu_ms):.2f} ms",
                f"(d) {median(e.floor.app_cpu_ms):.2f} ms",
                f"(a)/(d) {Spread.of(ratios(e.rls.app_cpu_ms, e.floor.app_cpu_ms)).text()}",
                "reported",
                "-",
            )
        )
        cpu = e.cpu_ratio
        rows.append(
            Row(
                f"HTTP: `{e.name}` CPU per request (app + PostgreSQL)",
                f"{median(e.rls.app_cpu_ms):.2f} + {median(e.rls.db_cpu_ms):.2f} ms",
                f"{median(e.baseline.app_cpu_ms):.2f} + {median(e.baseline.db_cpu_ms):.2f} ms",
                cpu.text(),
                "reported",
                "-",
            )
        )
        rows.append(
            Row(
                f"HTTP: `{e.name}` latency p50 / p99",
                f"{e.rls.p50:.1f} / {e.rls.p99:.1f} ms",
                f"{e.baseline.p50:.1f} / {e.baseline.p99:.1f} ms",
                f"{e.rls.p50 / e.baseline.p50:.2f} / {e.rls.p99 / e.baseline.p99:.2f}",
                "reported",
                "-",
            )
        )
    return rows


def roundtrip_rows(counts: list[RequestStatements]) -> list[Row]:
    rows = []
    by_key = {(c.variant, c.endpoint): c for c in counts}
    for endpoint in dict.fromkeys(c.endpoint for c in counts):
        a, b = by_key[("rls", endpoint)], by_key[("baseline", endpoint)]
        one_statement = a.count("role + claims") == 1 and a.count("other SET") == 0
        three = a.round_trips <= ROUND_TRIPS_TARGET
        rows.append(
            Row(
                f"Round trips: `{endpoint}` statements (round trips) per request",
                f"{a.statements:g} ({a.round_trips:g}): BEGIN {a.count('BEGIN'):g}, "
                f"role+claims {a.count('role + claims'):g}, COMMIT {a.count('COMMIT'):g}",
                f"{b.statements:g} ({b.round_trips:g})",
                f"+{a.round_trips - b.round_trips:g} round trips",
                f"role + claims in 1 statement; {ROUND_TRIPS_TARGET} round trips",
                yes_no(one_statement and three),
            )
        )
    return rows


def memory_row(peak_rss: dict[str, int]) -> Row:
    a, b = peak_rss["rls"] / 2**20, peak_rss["baseline"] / 2**20
    return Row(
        "Memory: peak RSS of the worker under the HTTP load",
        f"{a:.0f} MB",
        f"{b:.0f} MB",
        f"{a / b:.2f}",
        f"< {RSS_TARGET_MB} MB",
        yes_no(a < RSS_TARGET_MB),
    )


def table(rows: list[Row]) -> str:
    header = (
        "| check | (a) RLS | (b) baseline | (a)/(b) median [p25-p75] | target | met "
        "| (c) correlated policy: time, (c)/(b) |"
    )
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = (r.check, r.rls, r.baseline, r.ratio, r.target, r.met, r.correlated)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def server_view(sql: SqlResults) -> str:
    """pg_stat_statements of the SQL level: planning and execution inside the server."""
    lines = [
        "| query | (a) plans / calls | (a) planning per call | (a) execution (mean) "
        "| (b) plans / calls | (b) planning per call | (b) execution (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in sql.queries:
        cells = [q.name]
        for s in (q.server_rls, q.server_explicit):
            if s is None:
                cells += ["?", "?", "?"]
            else:
                cells += [
                    f"{s.plans:,} / {s.calls:,}",
                    f"{s.plan_ms_per_call:.3f} ms",
                    f"{s.mean_exec_ms:.3f} ms",
                ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Means over every call, the untimed warm-up runs included. A statement planned on "
        "every call (plans = calls) uses custom plans; one planned a few times settled on "
        "a generic plan.",
    ]
    return "\n".join(lines)


def statements_detail(counts: list[RequestStatements]) -> str:
    lines = ["| variant | endpoint | kind | per request | statements |", "|---|---|---|---|---|"]
    for c in counts:
        for kind, per_request in sorted(c.per_request.items()):
            texts = "; ".join(f"`{t[:60]}{'...' if len(t) > 60 else ''}`" for t in c.texts[kind])
            lines.append(f"| {c.variant} | `{c.endpoint}` | {kind} | {per_request:g} | {texts} |")
    return "\n".join(lines)


def plans(sql: SqlResults, queries: list[QueryResult]) -> str:
    parts = []
    for q in queries:
        parts.append(f"### (a) {q.name}: `{q.request}`\n\n```\n{sql.plans[q.name]}\n```")
    parts.append(
        f"### (c) list page on task_correlated, for contrast\n\n```\n{sql.correlated_plan}\n```"
    )
    return "\n\n".join(parts)


def write(header: str, rows: list[Row], sections: list[tuple[str, str]]) -> str:
    """RESULTS.md: header, the table, the generated sections, then NOTES.md as it is."""
    body = [header, "", table(rows), ""]
    for title, text in sections:
        body += [f"## {title}", "", text, ""]
    if NOTES.exists():
        body += [NOTES.read_text().rstrip(), ""]
    content = "\n".join(body)
    RESULTS.write_text(content)
    return content
