"""`piccolo rls distribute`: put every declared table where its declaration says, on Citus.

Tables sharded by tenant are distributed by tenant_id, all colocated (a tenant's rows of
every table on one node: its joins and keys stay on one shard); reference tables get a
copy on every node; local tables stay on the coordinator. On one PostgreSQL server the
command has nothing to do.

It runs after `piccolo migrations forwards all`, not inside a migration: the apps'
migrations run app after app, and the early ones of a later app, replayed on a new
database, make plain keys to tables of an earlier app, which a distributed table cannot
take. The command is idempotent; `piccolo rls check` and the app's startup refuse a
Citus database where a declared table is not where it belongs, and say to run it.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from refresh.db.clients import write_client
from refresh.db.sql import ident, quote_literal, statements
from refresh.schema.state import AppState
from refresh.tenancy.declarations import TENANT_COLUMN, Distribution

CITUS_INSTALLED = "select exists (select from pg_extension where extname = 'citus') as installed"
# partmethod: h = hash (distributed), n = none (reference, or a citus local table)
PLACEMENT_SQL = """
select c.relname as table, p.partmethod::text as method, p.colocationid as colocation,
       p.repmodel::text as model
  from pg_dist_partition p join pg_class c on c.oid = p.logicalrelid
 where c.relnamespace = 'public'::regnamespace
"""
KEYS_SQL = """
select c.relname as table, r.relname as references
  from pg_constraint con join pg_class c on c.oid = con.conrelid
  join pg_class r on r.oid = con.confrelid
 where con.contype = 'f' and c.relnamespace = 'public'::regnamespace and c.oid <> r.oid
"""


def placement_of(method: str, model: str) -> Distribution:
    if method == "h":
        return Distribution.by_tenant
    # a reference table is replicated to every node (model t); a citus local table is not
    return Distribution.reference if model == "t" else Distribution.local


async def citus_installed() -> bool:
    return bool((await write_client.fetch(CITUS_INSTALLED))[0]["installed"])


async def live_placements() -> dict[str, Distribution]:
    """Where each Citus table lives; a table missing here is a plain local table."""
    rows = await write_client.fetch(PLACEMENT_SQL)
    return {row["table"]: placement_of(row["method"], row["model"]) for row in rows}


def distribute_order(declared: AppState, references: dict[str, set[str]]) -> list[str]:
    """Reference tables first, then tables sharded by tenant; within each, a table after
    the tables it has keys to (Citus wants the referenced table in place first)."""
    order: list[str] = []

    def visit(table: str, seen: frozenset[str]) -> None:
        if table in order or table in seen:
            return
        for target in sorted(references.get(table, ())):
            same_kind = target in declared and (
                declared[target].distribution == declared[table].distribution
            )
            if same_kind:
                visit(target, seen | {table})
        order.append(table)

    for kind in (Distribution.reference, Distribution.by_tenant):
        for table in sorted(declared):
            if declared[table].distribution == kind:
                visit(table, frozenset())
    return order


def distribute_sql(table: str, distribution: Distribution, colocate_with: str | None) -> str:
    """One table, in one transaction. Sharded by tenant: the unique (id) that one server
    keeps (refresh/schema/sharding_sql.py) becomes a plain index, as Citus wants the
    distribution column in every unique key. Triggers (audit, updated_at, SET NULL) are
    allowed with citus.enable_unsafe_triggers: each of them touches only rows of the
    same tenant, so of the same colocated shard group."""
    t = ident(table)
    # set_config, not SET: with citus.propagate_set_commands = 'local' (the admin role's,
    # migrations/rls/rls_2026_12_02t23_00_00_000000.py) Citus sends a SET's whole query
    # string, this script, to the workers; the setting is the coordinator's business only.
    triggers = "select set_config('citus.enable_unsafe_triggers', 'on', true);\n"
    if distribution is Distribution.reference:
        return triggers + f"select create_reference_table({quote_literal('public.' + t)});"
    colocation = quote_literal(colocate_with) if colocate_with else "'none'"
    return (
        f"alter table {t} drop constraint if exists {ident(table + '_id_key')};\n"
        f"create index if not exists {ident(table + '_id_idx')} on {t} (id);\n"
        f"{triggers}"
        f"select create_distributed_table({quote_literal('public.' + t)},"
        f" {quote_literal(TENANT_COLUMN)}, colocate_with => {colocation});"
    )


@dataclass(frozen=True)
class Step:
    table: str
    distribution: Distribution
    sql: str


async def plan_distribution(declared: AppState) -> tuple[list[Step], list[str]]:
    """(steps to run, problems no step can fix: a table placed otherwise than declared)."""
    placements = await live_placements()
    references: dict[str, set[str]] = {}
    for row in await write_client.fetch(KEYS_SQL):
        references.setdefault(row["table"], set()).add(row["references"])
    anchor = next(
        (t for t in sorted(declared) if placements.get(t) is Distribution.by_tenant), None
    )
    steps, problems = [], []
    for table in distribute_order(declared, references):
        wanted = declared[table].distribution
        if wanted is None:
            continue
        have = placements.get(table, Distribution.local)
        if have == wanted:
            continue
        if have is not Distribution.local:
            problems.append(
                f"{table} is a {have.value} table, declared {wanted}: undo it first, as the "
                f"admin role: select undistribute_table({quote_literal('public.' + table)});"
            )
            continue
        if wanted is Distribution.local:
            continue  # a citus local table (one with keys to a reference table) is local
        distribution = Distribution(wanted)
        steps.append(Step(table, distribution, distribute_sql(table, distribution, anchor)))
        if distribution is Distribution.by_tenant and anchor is None:
            anchor = table
    return steps, problems


def declared_everywhere() -> AppState:
    from refresh.rls.check import registered_apps
    from refresh.schema.state import declared_state

    state: AppState = {}
    for app in registered_apps():
        state.update(declared_state(app).state)
    return state


async def run_distribute(dry_run: bool = False) -> int:
    if not await citus_installed():
        print("not a Citus database (no citus extension): every table is local already")
        return 0
    steps, problems = await plan_distribution(declared_everywhere())
    for problem in problems:
        print(f"✗ {problem}")
    for step in steps:
        print(f"-- {step.table}: {step.distribution.value}\n{step.sql}")
        if not dry_run:
            try:
                async with write_client.transaction():
                    for statement in statements(step.sql):
                        await write_client.execute(statement)
            except asyncpg.PostgresError as exc:
                hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
                print(f"✗ {step.table} was not distributed: {exc}{hint}")
                return 1
    if not steps and not problems:
        print("every declared table is where its declaration puts it")
    return 1 if problems else 0
