"""task_correlated: a copy of task under Drizzle's Neon policy form, for contrast.

`create table task_correlated (like task including all)` copies columns, defaults, checks
and indexes (not the foreign keys, which reads do not use); the rows are task's, those of
the benchmark's 1,000 tenants (not bench-big, the admin benchmark's). Its only
policy is `using ((select auth.tenant_id() = tenant_id))`, the form Drizzle's Neon
`authUid` helper generates: the comparison sits inside a subquery, so the planner cannot
use it as an index condition. The project's real task table keeps its real policies.
Idempotent: the copy is refreshed only when its row count differs from task's.
"""

from __future__ import annotations

import time

import asyncpg

from bench.datagen import MAIN_TENANTS

SETUP_SQL = """
create table if not exists task_correlated (like task including all);
alter table task_correlated enable row level security;
alter table task_correlated force row level security;
drop policy if exists correlated_select on task_correlated;
create policy correlated_select on task_correlated for select to {role}
  using ((select auth.tenant_id() = tenant_id));
grant select on task_correlated to {role};
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def prepare(write_url: str, authenticated_role: str) -> None:
    connection = await asyncpg.connect(write_url)
    try:
        await connection.execute(SETUP_SQL.format(role=_ident(authenticated_role)))
        source = await connection.fetchval(
            f"select count(*) from task where tenant_id in ({MAIN_TENANTS})"
        )
        copied = await connection.fetchval("select count(*) from task_correlated")
        if source == copied:
            return
        print(f"correlated: copying {source:,} tasks into task_correlated ...", end="", flush=True)
        started = time.monotonic()
        async with connection.transaction():
            await connection.execute("truncate task_correlated")
            await connection.execute(
                "insert into task_correlated select * from task"
                f" where tenant_id in ({MAIN_TENANTS})"
            )
        await connection.execute("vacuum (analyze) task_correlated")
        print(f" {time.monotonic() - started:.0f} s", flush=True)
    finally:
        await connection.close()
