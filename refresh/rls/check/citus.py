"""Checks of a Citus database: each declared table placed as declared (sharded by tenant,
reference, local), every table sharded by tenant in one colocation group, and the
policies of every shard the same as the coordinator's.

The last one is why the check reads the workers at all: Citus re-creates a policy on its
shards with its own CREATE POLICY, which never says AS RESTRICTIVE, so a restrictive
policy narrows on the coordinator and widens on the shards, where the rows are."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.db.sql import ident, quote_literal
from refresh.rls.check.problems import Fix, Problem, commands
from refresh.schema.distribution import (
    citus_installed,
    colocation_anchor,
    live_colocations,
    live_placements,
)
from refresh.schema.state import AppState
from refresh.tenancy.declarations import Distribution

# one line per policy: name, command, permissive or not; the same text on every node
POLICY_LINES = (
    "select coalesce(string_agg(polname || ' ' || polcmd::text || ' ' || polpermissive::text, ','"
    " order by polname), '') from pg_policy where polrelid = {table}::regclass"
)
SHARD_POLICIES = "select result from run_command_on_shards($1::regclass, $2) where success"


async def shard_policy_problems(app: str, table: str) -> list[Problem]:
    coordinator = await write_client.fetch(POLICY_LINES.format(table=quote_literal(table)))
    expected = coordinator[0]["coalesce"]
    on_shards = {
        row["result"]
        for row in await write_client.fetch(
            SHARD_POLICIES, table, POLICY_LINES.format(table="'%s'")
        )
    }
    differing = on_shards - {expected}
    if not differing:
        return []
    want = set(expected.split(","))
    shard_only = sorted({line for lines in differing for line in lines.split(",")} - want)
    return [
        Problem(
            "shard_policy_differs",
            table,
            f"its shards have policies as ({'; '.join(shard_only) or 'none'}) where the "
            f"coordinator has ({expected.replace(',', '; ') or 'none'}) (name, command, "
            "permissive): Citus re-creates a RESTRICTIVE policy as PERMISSIVE on the "
            "shards, where it widens access",
            Fix(
                edit="declare no RESTRICTIVE policy: fold the rule into the isolation "
                "policies (tenant_rls(read_rule=..., write_rule=...))",
                commands=(f"piccolo rls new {app}", "piccolo migrations forwards all"),
            ),
            app,
        )
    ]


def colocation_problem(app: str, table: str, anchor: str) -> Problem:
    move = (
        f"select update_distributed_table_colocation("
        f"{quote_literal('public.' + ident(table))}, "
        f"colocate_with => {quote_literal('public.' + ident(anchor))});"
    )
    return Problem(
        "table_not_colocated",
        table,
        f"sharded by tenant but not colocated with {anchor}: a tenant's rows of the two "
        "tables can be on two nodes, where their joins and keys cannot follow",
        Fix(sql=move),
        app,
    )


async def citus_problems(declared: dict[str, AppState]) -> list[Problem]:
    """Nothing on a database without Citus."""
    if not await citus_installed():
        return []
    placements, colocations = await live_placements(), await live_colocations()
    problems: list[Problem] = []
    tables = {table for state in declared.values() for table in state}
    anchor = colocation_anchor(placements, colocations, among=tables)  # as distribute does
    for app, state in declared.items():
        for table, table_state in sorted(state.items()):
            if table_state.distribution is None:
                continue
            wanted = Distribution(table_state.distribution)
            have = placements.get(table, Distribution.local)
            if have is not wanted and have is Distribution.local:
                problems.append(
                    Problem(
                        "table_not_distributed",
                        table,
                        f"declared {wanted.value} but a local table of the coordinator: "
                        "every query of it runs there, and keys to it from sharded "
                        "tables cannot be made",
                        commands("piccolo rls distribute"),
                        app,
                    )
                )
            elif have is not wanted:
                undo = f"select undistribute_table({quote_literal('public.' + ident(table))});"
                problems.append(
                    Problem(
                        "table_placement_differs",
                        table,
                        f"declared {wanted.value} but placed {have.value}",
                        Fix(sql=undo)
                        if wanted is Distribution.local
                        else Fix(sql=undo, then=("piccolo rls distribute",)),
                        app,
                    )
                )
            if anchor and have is wanted is Distribution.by_tenant:
                if colocations[table] != colocations[anchor]:
                    problems.append(colocation_problem(app, table, anchor))
            if have is not Distribution.local and table_state.policies:
                problems += await shard_policy_problems(app, table)
    return problems
