"""What the server saw, from pg_stat_statements (preloaded on the bench server only).

Statements are matched by their text with parameters and literals blanked out, since
pg_stat_statements stores `coalesce(x, 'infinity')` as `coalesce(x, $4)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

STATS_SQL = """
select s.query, r.rolname as role, s.calls, s.plans, s.mean_exec_time, s.mean_plan_time
  from pg_stat_statements s
  join pg_roles r on r.oid = s.userid
  join pg_database d on d.oid = s.dbid
 where d.datname = current_database() and r.rolname <> current_user
"""


@dataclass(frozen=True)
class StatementStats:
    query: str
    role: str
    calls: int
    plans: int
    mean_exec_ms: float
    mean_plan_ms: float  # per planning, not per call

    @property
    def plan_ms_per_call(self) -> float:
        return self.mean_plan_ms * self.plans / self.calls if self.calls else 0.0


def shape(sql: str) -> str:
    """The statement with every $n and 'literal' blanked and whitespace collapsed."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\$\d+", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)  # LIMIT 51 is stored as LIMIT $5
    sql = re.sub(r"/\*.*?\*/", "", sql)  # PostgreSQL 18 squashes IN lists: IN ($1 /*, ... */)
    sql = re.sub(r"\?(?:\s*,\s*\?)+", "?", sql)
    sql = re.sub(r"\s+", " ", sql).replace("( ", "(").replace(" )", ")")
    return sql.strip().rstrip(";").lower()


async def reset(superuser: asyncpg.Connection) -> None:
    await superuser.execute("select pg_stat_statements_reset()")


async def track_planning(superuser: asyncpg.Connection, on: bool) -> None:
    """Planning time and plan counts (a little overhead: on for the SQL level only)."""
    await superuser.execute(f"alter system set pg_stat_statements.track_planning = {on}")
    await superuser.execute("select pg_reload_conf()")


async def statements(superuser: asyncpg.Connection) -> list[StatementStats]:
    """Every statement of other users in this database since the last reset."""
    rows = await superuser.fetch(STATS_SQL)
    return [
        StatementStats(
            r["query"],
            r["role"],
            int(r["calls"]),
            int(r["plans"] or 0),
            float(r["mean_exec_time"]),
            float(r["mean_plan_time"] or 0.0),
        )
        for r in rows
    ]


def find(stats: list[StatementStats], sql: str) -> StatementStats | None:
    wanted = shape(sql)
    matches = [s for s in stats if shape(s.query) == wanted]
    return max(matches, key=lambda s: s.calls) if matches else None
