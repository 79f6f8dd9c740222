"""`piccolo rls distribute`: the placement migrations' plan run by hand (idempotent).

`piccolo migrations forwards all` places every declared table already (the placement
migrations, refresh/schema/placement.py); this command is for a database where a table
was moved back by hand, or whose placement migration has not been generated yet. On one
PostgreSQL server there is nothing to do.
"""

from __future__ import annotations

import asyncpg

from refresh.db.clients import write_client
from refresh.schema.distribution import citus_installed, plan_distribution
from refresh.schema.placement import placement_of_apps


async def run_distribute(dry_run: bool = False) -> int:
    if not await citus_installed():
        print("not a Citus database (no citus extension): every table is local already")
        return 0
    sql, problems = await plan_distribution(placement_of_apps(declared=True))
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        return 1
    if not sql:
        print("every declared table is where its declaration puts it")
        return 0
    print("\n".join(sql))
    if dry_run:
        return 0
    statement = ""
    try:
        async with write_client.transaction():
            for statement in sql:
                await write_client.execute(statement)
            statement = "commit"  # Citus's commit on the workers can fail too
    except asyncpg.PostgresError as exc:
        hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
        print(f"✗ nothing was distributed: {exc}{hint}\n  at: {statement}")
        return 1
    print("distributed: every declared table is where its declaration puts it")
    return 0
