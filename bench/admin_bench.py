"""Admin, large tenant: piccolo-admin's API on a tenant of 200,000 tasks (issue #5, item 5).

Target: the task list page, a filter and a sort each answer in under a second, for the
tenant's staff (RLS, in the request transaction the admin gate opens) and for an operator
(the write client). The real app runs under uvicorn (one worker) against the bench
database; this process logs in through `/admin/public/login/` as the UI does (CSRF cookie,
then the `X-CSRFToken` header) and sends the requests the UI sends (see the bundle in
piccolo_admin/dist: a list page is a `count/` request, then the rows with
`__readable=true`; the default order of a table without `order_by` is its primary key
ascending; a filter on a text column is an ILIKE '%value%' unless `__match` says
otherwise, and on a column with choices an exact match (apps/admin/site.py); a foreign
key picker asks `<table>/ids/?search=&limit=6`).

Each repetition sends every request once, one at a time (the latency a user sees), in
alternating order; the first pass is an untimed warm-up. A figure is the median over the
repetitions, with the spread min-max. Requests slower than PLAN_MS get their plan
(bench/admin_explain.py). `python -m bench.admin_bench [REPS]` runs this part alone.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import admin_data, big_api
from bench.admin_explain import AdminQuery, explain, staff_claims, statement
from bench.progress import Progress
from bench.server import BenchDatabase
from bench.servers import AppServer
from bench.stats import Spread, median, ratios

TARGET_MS = 1_000
SMALL_TENANTS = 1_000  # of 1,000 tasks each, beside bench-big: make bench's data
PLAN_MS = 100  # requests with a median above this get their plan in RESULTS.md
PAGE_SIZE = 25
NO_MATCH = "zzzz"  # no readable value contains it: the picker reads every row


@dataclass(frozen=True)
class Check:
    name: str
    query: AdminQuery
    operator: bool = False  # the operator login (write client), else the tenant's staff
    expect_rows: int | None = None  # rows of a list page, or the count


@dataclass
class Timed:
    check: Check
    ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return median(self.ms)


@dataclass
class AdminResults:
    timed: list[Timed]
    reps: int
    tenant_tasks: int
    all_tasks: int
    plans: dict[str, str]  # check name -> EXPLAIN (ANALYZE, BUFFERS)
    statements: dict[str, str]
    load_average: float  # over the last minute, when the measurements ended
    api: list[big_api.ApiTimed]  # the same tenant through /api, as a member

    def by_name(self, name: str) -> Timed:
        return next(t for t in self.timed if t.check.name == name)

    def sum_ms(self, *names: str) -> list[float]:
        """Per repetition, the total of several requests (a page = count + rows)."""
        series = [self.by_name(n).ms for n in names]
        return [sum(values) for values in zip(*series, strict=True)]

    def ratio(self, numerator: str, denominator: str) -> Spread:
        return Spread.of(ratios(self.by_name(numerator).ms, self.by_name(denominator).ms))


def page(*filters: tuple[str, str], order: str = "id", number: int = 1) -> AdminQuery:
    params = (
        ("__readable", "true"),
        *filters,
        ("__order", order),
        ("__page_size", str(PAGE_SIZE)),
        ("__page", str(number)),
    )
    return AdminQuery("list", "task", params)


def count(*filters: tuple[str, str]) -> AdminQuery:
    return AdminQuery("count", "task", filters)  # the UI drops __order from a count


def picker(table: str, search: str) -> AdminQuery:
    return AdminQuery("ids", table, (("search", search), ("limit", "6")))


READABLE = (("__readable", "true"),)
STATUS = (("status", "done"), ("status__operator", "e"))
TITLE = (("title", "invoice"), ("title__match", "contains"))
BROAD = (("title", "e"), ("title__match", "contains"))  # matches nearly every task

# Names used for the derived rows (page = count + rows, staff / operator).
LIST = "list page 1 (default order: id)"
COUNT = "count for the list page"
OP_LIST = "operator: list page 1 of bench-big (tenant filter)"
OP_COUNT = "operator: count of bench-big"


def checks(tenant_id: uuid.UUID, tasks: int, task_id: str, searches: dict[str, str]) -> list[Check]:
    tenant = (("tenant_id", str(tenant_id)), ("tenant_id__operator", "e"))
    last_page = tasks // PAGE_SIZE
    return [
        Check(LIST, page(), expect_rows=PAGE_SIZE),
        Check(COUNT, count(), expect_rows=tasks),
        Check("list page 1, order -id", page(order="-id"), expect_rows=PAGE_SIZE),
        Check("filter status = done: page 1", page(*STATUS), expect_rows=PAGE_SIZE),
        Check("filter status = done: count", count(*STATUS)),
        Check("filter title contains 'invoice': page 1", page(*TITLE), expect_rows=PAGE_SIZE),
        Check("filter title contains 'invoice': count", count(*TITLE)),
        Check("sort by priority", page(order="priority"), expect_rows=PAGE_SIZE),
        Check("sort by -due_at", page(order="-due_at"), expect_rows=PAGE_SIZE),
        Check("sort by title", page(order="title"), expect_rows=PAGE_SIZE),
        Check(
            "filter title contains 'e', sort by -due_at",
            page(*BROAD, order="-due_at"),
            expect_rows=PAGE_SIZE,
        ),
        Check(
            f"last page ({last_page:,}: OFFSET {tasks - PAGE_SIZE:,})",
            page(number=last_page),
            expect_rows=PAGE_SIZE,
        ),
        Check(
            "last page, newest first (the UI's default order)",
            page(order="-created_at,-id", number=last_page),
            expect_rows=PAGE_SIZE,
        ),
        Check(
            f"middle page ({last_page // 2:,}: OFFSET {(last_page // 2 - 1) * PAGE_SIZE:,})",
            page(number=last_page // 2),
            expect_rows=PAGE_SIZE,
        ),
        Check(
            "filter title contains 'e': page 41 (OFFSET 1,000)",
            page(*BROAD, number=41),
            expect_rows=PAGE_SIZE,
        ),
        Check("FK picker: project, search", picker("project", searches["project"])),
        Check("FK picker: member, search", picker("member", searches["member"])),
        Check("FK picker: task (comment form), search", picker("task", searches["task"])),
        Check("FK picker: task, search without a match", picker("task", NO_MATCH)),
        Check(
            "detail page of a task",
            AdminQuery("detail", "task", (("__readable", "true"),), task_id),
        ),
        Check(OP_LIST, page(*tenant), operator=True, expect_rows=PAGE_SIZE),
        Check(OP_COUNT, count(*tenant), operator=True, expect_rows=tasks),
        Check("operator: list page 1, every tenant", page(), operator=True, expect_rows=PAGE_SIZE),
        Check("operator: count, every tenant", count(), operator=True),
    ]


async def login(base_url: str, username: str) -> httpx.AsyncClient:
    """A client holding an admin session, logged in as the UI does."""
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    await client.get("/admin/")  # sets the csrftoken cookie
    response = await client.post(
        "/admin/public/login/",
        json={"username": username, "password": admin_data.PASSWORD},
        headers={"X-CSRFToken": client.cookies.get("csrftoken") or ""},
    )
    if response.status_code != 200:
        await client.aclose()
        raise RuntimeError(f"admin login {username}: {response.status_code} {response.text}")
    return client


def _check_body(check: Check, body: dict[str, Any]) -> None:
    """The staff see their tenant's 200,000 tasks exactly; list pages are full."""
    if check.expect_rows is None:
        return
    got = body.get("count") if check.query.kind == "count" else len(body.get("rows", []))
    if got != check.expect_rows:
        raise RuntimeError(f"{check.name}: {got} rows, expected {check.expect_rows}")


async def _send(client: httpx.AsyncClient, check: Check, verify: bool) -> float:
    started = time.perf_counter()
    response = await client.get(check.query.path())
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{check.name}: {response.status_code} {response.text[:300]}")
    if verify:
        _check_body(check, response.json())
    return elapsed


async def _first_readable(client: httpx.AsyncClient, table: str) -> str:
    """A search term the picker finds: the start of one row's readable value."""
    response = await client.get(f"/admin/api/tables/{table}/ids/?limit=1&offset=7")
    values = list(response.json().values())
    return str(values[0])[:4] if values else "a"


async def _task_id(client: httpx.AsyncClient) -> str:
    response = await client.get(page(number=4000).path())
    return str(response.json()["rows"][0]["id"])


async def measure(base_url: str, tenant_id: uuid.UUID, tasks: int, reps: int) -> list[Timed]:
    staff = await login(base_url, admin_data.STAFF)
    operator = await login(base_url, admin_data.OPERATOR)
    try:
        searches = {t: await _first_readable(staff, t) for t in ("project", "member", "task")}
        timed = [Timed(c) for c in checks(tenant_id, tasks, await _task_id(staff), searches)]
        progress = Progress(f"admin: {len(timed)} requests x {reps} repetitions", reps + 1)
        for rep in range(reps + 1):  # pass 0: warm-up and the answers' checks, untimed
            order = timed if rep % 2 == 0 else timed[::-1]
            for t in order:
                client = operator if t.check.operator else staff
                elapsed = await _send(client, t.check, verify=rep == 0)
                if rep > 0:
                    t.ms.append(elapsed)
            progress.advance(f"{sum(median(t.ms) for t in timed if t.ms):,.0f} ms per pass")
        progress.done()
        return timed
    finally:
        await staff.aclose()
        await operator.aclose()


async def plans_of(
    database: BenchDatabase, tenant_id: uuid.UUID, timed: list[Timed]
) -> tuple[dict[str, str], dict[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every request slower than PLAN_MS, run as its login."""
    plans, statements = {}, {}
    claims = staff_claims(admin_data.STAFF, str(tenant_id))
    for t in timed:
        if t.median < PLAN_MS:
            continue
        sql = statement(t.check.query)
        statements[t.check.name] = sql
        if t.check.operator:
            plans[t.check.name] = await explain(database.write_url, sql)
        else:
            plans[t.check.name] = await explain(
                database.read_url, sql, claims, database.authenticated_role
            )
    return plans, statements


async def run_admin_bench(
    database: BenchDatabase, tenant: admin_data.BigTenant, reps: int, log_dir: Path
) -> AdminResults:
    await admin_data.ensure_logins(tenant.id)
    app_server = AppServer("admin", database.env(), log_dir)
    try:
        app_server.wait_ready()
        base_url = f"http://127.0.0.1:{app_server.port}"
        timed = await measure(base_url, tenant.id, tenant.tasks, reps)
        api = await big_api.measure(base_url, tenant.id, reps)
        load = os.getloadavg()[0]
    finally:
        app_server.stop()
    plans, statements = await plans_of(database, tenant.id, timed)
    from bench.datagen import dataset_size

    size = await dataset_size(database.write_url)
    return AdminResults(timed, reps, tenant.tasks, size["all_tasks"], plans, statements, load, api)


def main() -> int:  # python -m bench.admin_bench [REPS]: this benchmark alone
    from bench import server

    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    tasks = admin_data.tasks_wanted()
    # first: the app's modules read the URLs it sets
    database = server.start(database_name=admin_data.database_name(tasks))
    from bench import admin_report

    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> AdminResults:
        from bench import datagen

        await datagen.generate(database.write_url, SMALL_TENANTS)  # once per database
        tenant = await admin_data.ensure_big_tenant(database.write_url, tasks)
        return await run_admin_bench(database, tenant, reps, log_dir)

    try:
        results = asyncio.run(run())
    finally:
        if os.environ.get("BENCH_KEEP_SERVER") != "1":
            server.stop()
    print()
    print(admin_report.admin_table(results))
    print()
    print(big_api.api_table(results.api))
    return 0


if __name__ == "__main__":
    sys.exit(main())
