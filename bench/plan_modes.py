"""What generic plans buy on one server now that every query of a request names its tenant.

    python -m bench.plan_modes [REPS] [INNER]

Since the Citus work (refresh/tenancy/routing.py) every query of a tenant table inside a
request carries `tenant_id = $n` beside RLS, and `auth.begin_request` forces generic plans
on plain PostgreSQL for API requests (custom plans for the admin's, none forced on Citus).
Generic plans were adopted when the tenant was RLS's `auth.tenant_id()` alone
(bench/RESULTS.md, "SQL level"). This measures the SQL bench's queries on the read login,
in a request transaction as the middleware opens it:

    RLS only, generic     the request path before the tenant constant
    + constant, generic   today's default (the list page, fetch by id)
    + constant, custom    `plan_cache_mode = force_custom_plan`, what the API sets for a
                          filtered list (apps/tasks/queries.py, plan_for_values)
    + constant, custom in index order
                          custom plans and `enable_sort = off`, what it sets for a search

and (b), the same query with the constant on the write client (no RLS, plan cache left to
PostgreSQL), as the SQL bench's baseline; "the API" is the mode the API chooses for the
query. On small tenants (random, of the 1,000) and on bench-big (200,000 tasks), where a
plan made for an average tenant can be wrong. Each repetition: one tenant, the modes in
rotating order, each in its own transaction; per query, every variant once untimed, then
`inner` rounds of the variants in rotating order, a variant's time the median of its
rounds. bench-big gets a quarter of the repetitions (its searches take up to a second).
Needs the bench data (`make bench` once; made here if missing). Prints one table;
bench/RESULTS.md keeps the figures of record.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from dataclasses import dataclass, field

import asyncpg

from bench import admin_data, datagen, server
from bench.sql_bench import begin_request, load_samples, timed
from bench.sql_queries import QUERIES, Statement, TenantSample
from bench.stats import Spread, median, ratios

# mode -> what runs after auth.begin_request (which forces generic plans for the API)
MODES = {
    "generic": "",
    "custom": "set local plan_cache_mode = force_custom_plan",
    "custom in index order": "set local plan_cache_mode = force_custom_plan;"
    " set local enable_sort = off",
}
# the mode the API runs each query in (apps/tasks/queries.py list_tasks, fetch_task)
API_MODE = {
    "list page": "generic",
    "filtered list": "custom",
    "count by status": "generic",
    "fetch by id": "generic",
    "text search": "custom in index order",
}
COLUMNS = (
    "RLS only, generic",
    "+ constant, generic",
    "+ constant, custom",
    "+ constant, custom in index order",
    "(b)",
)


@dataclass
class Timings:
    """query name -> variant -> per-repetition medians (ms)."""

    ms: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, query: str, variant: str, value: float) -> None:
        self.ms.setdefault(query, {}).setdefault(variant, []).append(value)


async def one_mode(
    read: asyncpg.Connection,
    write: asyncpg.Connection,
    role: str,
    sample: TenantSample,
    mode: str,
    inner: int,
    timings: Timings,
) -> None:
    async with read.transaction(readonly=True):
        await begin_request(read, sample.tenant_id, role)  # forces generic plans
        if MODES[mode]:
            await read.execute(MODES[mode])
        for query in QUERIES:
            variants = query.variants(sample)
            runs: dict[str, tuple[asyncpg.Connection, Statement]] = {
                f"+ constant, {mode}": (read, variants.explicit)
            }
            if mode == "generic":  # once per repetition
                runs["RLS only, generic"] = (read, variants.rls)
                runs["(b)"] = (write, variants.explicit)
            rows = {name: (await timed(*run))[1] for name, run in runs.items()}  # warm-up
            if len(set(rows.values())) != 1:
                raise AssertionError(f"{query.name}: the variants return different rows {rows}")
            times: dict[str, list[float]] = {name: [] for name in runs}
            names = list(runs)
            for i in range(inner):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    times[name].append((await timed(*runs[name]))[0])
            for name, values in times.items():
                timings.add(query.name, name, median(values))


async def measure(reps: int, inner: int) -> str:
    database = server.start(migrate=True)
    await datagen.generate(database.write_url, 1_000)
    big = await admin_data.ensure_big_tenant(database.write_url)
    rng = random.Random(7)  # noqa: S311 (sampling, not secrets)
    small = await load_samples(database.write_url, 200, rng)
    big_task = await first_task(database.write_url, big.id)
    groups = {"small tenants": small, "bench-big": [TenantSample(big.id, big_task)]}
    read = await asyncpg.connect(database.read_url)
    write = await asyncpg.connect(database.write_url)
    lines = [
        "| tenants | query | " + " | ".join(COLUMNS) + " | the API's mode: time, / (b) "
        "| + constant: custom / generic |",
        "|---" * (len(COLUMNS) + 4) + "|",
    ]
    try:
        for group, samples in groups.items():
            timings = Timings()
            group_reps = reps if len(samples) > 1 else max(1, reps // 4)
            modes = list(MODES)
            for rep in range(group_reps):
                sample = rng.choice(samples)
                for mode in modes[rep % len(modes) :] + modes[: rep % len(modes)]:
                    await one_mode(
                        read, write, database.authenticated_role, sample, mode, inner, timings
                    )
                print(f"plan modes: {group} {rep + 1}/{group_reps}", file=sys.stderr, flush=True)
            lines += table_rows(group, timings)
    finally:
        await read.close()
        await write.close()
    title = (
        f"{reps} repetitions x {inner} rounds, PostgreSQL on the bench server; "
        f"load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    return title + "\n\n" + "\n".join(lines)


def table_rows(group: str, timings: Timings) -> list[str]:
    rows = []
    for query, by_variant in timings.ms.items():
        medians = " | ".join(f"{median(by_variant[c]):,.3f} ms" for c in COLUMNS)
        api = by_variant[f"+ constant, {API_MODE[query]}"]
        generic = by_variant["+ constant, generic"]
        rows.append(
            f"| {group} | {query} | {medians} "
            f"| {API_MODE[query]}: {median(api):,.3f} ms, "
            f"{Spread.of(ratios(api, by_variant['(b)'])).text()} "
            f"| {Spread.of(ratios(by_variant['+ constant, custom'], generic)).text()} |"
        )
    return rows


async def first_task(write_url: str, tenant_id: uuid.UUID) -> uuid.UUID:
    connection = await asyncpg.connect(write_url)
    try:
        task_id: uuid.UUID = await connection.fetchval(
            "select id from task where tenant_id = $1 limit 1", tenant_id
        )
    finally:
        await connection.close()
    return task_id


def main() -> int:
    args = [int(a) for a in sys.argv[1:]]
    reps, inner = (args + [40, 9][len(args) :])[:2]
    print(asyncio.run(measure(reps, inner)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
