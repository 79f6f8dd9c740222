"""The admin benchmark's part of bench/RESULTS.md: one row per request, against 1 s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import big_api
from bench.report import ms_text, yes_no
from bench.stats import median

if TYPE_CHECKING:
    from bench.admin_bench import AdminResults


def _admin_row(what: str, login: str, request: str, ms: list[float]) -> str:
    from bench.admin_bench import TARGET_MS

    mid, low, high = median(ms), min(ms), max(ms)
    met = yes_no(mid < TARGET_MS) + (f" (max {high:,.0f} ms)" if mid < TARGET_MS <= high else "")
    cells = (what, login, request, ms_text(mid), f"{ms_text(low)} - {ms_text(high)}", met)
    return "| " + " | ".join(cells) + " |"


def admin_table(results: AdminResults) -> str:
    """One row per request: median and min-max over the repetitions, against 1 s."""
    from bench import admin_bench as ab

    lines = [
        "| request | login | `/admin/api/tables/...` | median | spread (min - max) | < 1 s |",
        "|---|---|---|---|---|---|",
    ]
    for t in results.timed:
        login = "operator" if t.check.operator else "staff"
        path = t.check.query.path().removeprefix("/admin/api/tables/")
        lines.append(_admin_row(t.check.name, login, f"`{path}`", t.ms))
    pages = (
        ("list page as the UI loads it: count, then rows", ab.COUNT, ab.LIST),
        (
            "status filter as the UI loads it",
            "filter status = done: count",
            "filter status = done: page 1",
        ),
        (
            "title filter as the UI loads it",
            "filter title contains 'invoice': count",
            "filter title contains 'invoice': page 1",
        ),
    )
    for what, first, second in pages:
        lines.append(_admin_row(what, "staff", "the two above", results.sum_ms(first, second)))
    for what, staff, operator in (
        ("list page 1", ab.LIST, ab.OP_LIST),
        ("count", ab.COUNT, ab.OP_COUNT),
    ):
        ratio = results.ratio(staff, operator)
        lines.append(
            f"| staff (RLS) / operator (tenant filter): {what} | both | ratio per repetition "
            f"| {ratio.median:.2f} | [{ratio.p25:.2f}-{ratio.p75:.2f}] (p25-p75) | reported |"
        )
    return "\n".join(lines)


def admin_section(results: AdminResults) -> str:
    from bench import admin_bench as ab

    intro = (
        f"piccolo-admin's JSON API (`/admin/api/tables/...`) on tenant `bench-big`, "
        f"{results.tenant_tasks:,} tasks among {results.all_tasks:,} in the table, through "
        "the real app under uvicorn (one worker), logged in through `/admin/public/login/` "
        "as the tenant's staff (RLS, in the request transaction of the admin gate) and as an "
        "operator (the write client). The requests are the UI's: a list page is a `count/` "
        "and then the rows with `__readable=true` (joins for the foreign keys' readable "
        "values); a text filter is `ILIKE '%value%'`, a filter on a column with choices an "
        "exact match (apps/admin/site.py); the default order of a table "
        "without `order_by` is its primary key. One request at a time, each the median of "
        f"{results.reps} repetitions (after an untimed warm-up pass; the order alternates), "
        f"spread min - max; target: under {ab.TARGET_MS:,} ms. The 2 cores are shared by "
        "the app, PostgreSQL, the client and whatever else runs on the machine (load average "
        f"over the last minute of the measurements: {results.load_average:.1f})."
    )
    api = (
        "The same tenant through the API: `GET /api/tasks` as a plain member of `bench-big` "
        "(bench/big_api.py), the task list's filters, searches and sorts, one request at a "
        "time, the same repetitions."
    )
    return "\n\n".join([intro, admin_table(results), api, big_api.api_table(results.api)])


def admin_plans(results: AdminResults) -> str:
    from bench.admin_bench import PLAN_MS

    if not results.plans:
        return f"No request took {PLAN_MS} ms or more: no plan to show."
    parts = []
    for name, plan in results.plans.items():
        sql = results.statements[name]
        parts.append(f"### {name}\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```")
    return "\n\n".join(parts)
