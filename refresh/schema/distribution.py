"""Where each declared table lives on Citus, and the SQL that puts it there.

Tables sharded by tenant are distributed by tenant_id, all colocated (a tenant's rows of
every table on one node: its joins and keys stay on one shard); reference tables get a
copy on every node; local tables stay on the coordinator. On one PostgreSQL server there
is nothing to do.

The placement migrations run it (refresh/schema/placement.py), after every app's own
migrations; `piccolo rls distribute` runs the same plan by hand (idempotent).
`piccolo rls check` and the app's startup refuse a Citus database where a declared table
is not where it belongs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from refresh.db.clients import write_client
from refresh.db.sql import ident, quote_literal
from refresh.schema.sharding_sql import id_unique_to_index_sql
from refresh.tenancy.declarations import TENANT_COLUMN, Distribution

# Where each declared table belongs: table -> a Distribution's value (None: not managed)
Placement = Mapping[str, str | None]

CITUS_INSTALLED = "select exists (select from pg_extension where extname = 'citus') as installed"
# partmethod: h = hash (distributed), n = none (reference, or a citus local table)
PLACEMENT_SQL = """
select c.relname as table, p.partmethod::text as method, p.colocationid as colocation,
       p.repmodel::text as model
  from pg_dist_partition p join pg_class c on c.oid = p.logicalrelid
 where c.relnamespace = 'public'::regnamespace
"""
KEYS_SQL = """
select c.relname as table, r.relname as references, con.conname as name,
       pg_get_constraintdef(con.oid) as definition
  from pg_constraint con join pg_class c on c.oid = con.conrelid
  join pg_class r on r.oid = con.confrelid
 where con.contype = 'f' and c.relnamespace = 'public'::regnamespace and c.oid <> r.oid
"""

# The triggers a placement switches off while it copies rows (audit, updated_at, SET NULL):
# not the internal ones of foreign keys (Citus makes its own on the shards); disabled ones
# stay so (`piccolo rls check` reports them); one set to fire ALWAYS or on a REPLICA only
# was set so by hand, for a reason this plan cannot know, and is left alone
TRIGGERS_SQL = """
select c.relname as table, t.tgname as trigger
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
 where not t.tgisinternal and t.tgenabled = 'O'
   and c.relnamespace = 'public'::regnamespace
 order by 1, 2
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


async def live_colocations() -> dict[str, int]:
    """Each Citus table's colocation group (tables of one group share shard placements)."""
    return {row["table"]: row["colocation"] for row in await write_client.fetch(PLACEMENT_SQL)}


def distribute_order(declared: Placement, references: dict[str, set[str]]) -> list[str]:
    """Reference tables first, then tables sharded by tenant; within each, a table after
    the tables it has keys to (Citus wants the referenced table in place first)."""
    order: list[str] = []

    def visit(table: str, seen: frozenset[str]) -> None:
        if table in order or table in seen:
            return
        for target in sorted(references.get(table, ())):
            same_kind = target in declared and declared[target] == declared[table]
            if same_kind:
                visit(target, seen | {table})
        order.append(table)

    for kind in (Distribution.reference, Distribution.by_tenant):
        for table in sorted(declared):
            if declared[table] == kind:
                visit(table, frozenset())
    return order


@dataclass(frozen=True)
class ForeignKey:
    table: str
    references: str
    name: str
    definition: str


def by_tenant_sql(table: str, colocate_with: str | None) -> list[str]:
    """Shard one table by tenant. The unique (id) that one server keeps
    (refresh/schema/sharding_sql.py) becomes a plain index: Citus wants the distribution
    column in every unique key."""
    t = ident(table)
    colocation = quote_literal(colocate_with) if colocate_with else "'none'"
    return [
        *id_unique_to_index_sql(table),
        f"select create_distributed_table({quote_literal('public.' + t)},"
        f" {quote_literal(TENANT_COLUMN)}, colocate_with => {colocation});",
    ]


def distribution_sql(
    reference: list[str],
    by_tenant: list[str],
    anchor: str | None,
    keys: list[ForeignKey],
    triggers: Mapping[str, list[str]],
) -> list[str]:
    """The whole placement, for one transaction. Triggers (audit, updated_at, SET NULL)
    are allowed with citus.enable_unsafe_triggers: each touches only rows of its own
    tenant, so of the same colocated shard group. A table's rows are copied to its shards
    with its triggers off (Citus gives the shards their state): moving a row changes
    nothing to audit, and the audit trigger, writing to the sharded audit_log while
    Citus's copy holds the connections to the workers, failed the copy ('another command
    is already in progress'). Citus refuses a key from a local table
    to a distributed one, so the keys between tables sharded here are dropped first and
    made again once every table is sharded (colocated, they are then checked per shard).
    set_config, not SET: with citus.propagate_set_commands = 'local' (the admin role's,
    migrations/rls/rls_2026_12_02t23_00_00_000000.py) Citus would send a SET to the
    workers, and the setting is the coordinator's business only."""
    sharded = set(by_tenant)
    between = [k for k in keys if k.table in sharded and k.references in sharded]
    sql = ["select set_config('citus.enable_unsafe_triggers', 'on', true);"]
    suspended = [(t, name) for t in (*reference, *by_tenant) for name in triggers.get(t, ())]
    sql += [f"alter table {ident(t)} disable trigger {ident(name)};" for t, name in suspended]
    sql += [
        f"select create_reference_table({quote_literal('public.' + ident(t))});" for t in reference
    ]
    sql += [f"alter table {ident(k.table)} drop constraint {ident(k.name)};" for k in between]
    for table in by_tenant:
        sql += by_tenant_sql(table, anchor)
        anchor = anchor or table
    sql += [
        f"alter table {ident(k.table)} add constraint {ident(k.name)} {k.definition};"
        for k in between
    ]
    sql += [f"alter table {ident(t)} enable trigger {ident(name)};" for t, name in suspended]
    return sql


def colocation_anchor(
    placements: Mapping[str, Distribution],
    colocations: Mapping[str, int],
    among: Collection[str] | None = None,
) -> str | None:
    """The table a newly sharded table is colocated with, and that `piccolo rls check`
    measures the others against: one of the group most tables sharded by tenant are in
    (on a tie, the first table's by name). Not simply the first by name: with that one
    moved out of the group, every other table would look misplaced."""
    sharded = sorted(
        t
        for t in colocations
        if placements.get(t) is Distribution.by_tenant and (among is None or t in among)
    )
    sizes = Counter(colocations[t] for t in sharded)
    return max(sharded, key=lambda t: sizes[colocations[t]], default=None)


async def plan_distribution(declared: Placement) -> tuple[list[str], list[str]]:
    """(statements to run, problems no statement can fix: a table placed otherwise than
    declared, or a local table with a key to a table sharded by tenant)."""
    placements = await live_placements()
    keys = [ForeignKey(**row) for row in await write_client.fetch(KEYS_SQL)]
    references: dict[str, set[str]] = {}
    for key in keys:
        references.setdefault(key.table, set()).add(key.references)
    anchor = colocation_anchor(placements, await live_colocations(), among=declared)
    todo: dict[Distribution, list[str]] = {Distribution.reference: [], Distribution.by_tenant: []}
    problems = []
    for table in distribute_order(declared, references):
        wanted, have = declared[table], placements.get(table, Distribution.local)
        if wanted is None or have == wanted:
            continue
        if have is not Distribution.local:
            problems.append(
                f"{table} is a {have.value} table, declared {wanted}: undo it first, as the "
                f"admin role: select undistribute_table({quote_literal('public.' + table)});"
            )
        elif wanted != Distribution.local:  # a citus local table is local
            todo[Distribution(wanted)].append(table)
    for key in keys:
        if declared.get(key.table) == Distribution.local:
            if declared.get(key.references) == Distribution.by_tenant:
                problems.append(
                    f"{key.table} is local and has a key to {key.references}, which is "
                    "sharded by tenant: Citus cannot check it; drop the key, or change the "
                    "declaration `piccolo rls check` names (key_across_placements)"
                )
    if not todo[Distribution.reference] and not todo[Distribution.by_tenant]:
        return [], problems
    triggers: dict[str, list[str]] = {}
    for row in await write_client.fetch(TRIGGERS_SQL):
        triggers.setdefault(row["table"], []).append(row["trigger"])
    sql = distribution_sql(
        todo[Distribution.reference], todo[Distribution.by_tenant], anchor, keys, triggers
    )
    return sql, problems
