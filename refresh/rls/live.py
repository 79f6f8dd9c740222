"""The RLS state of the live database, read from the catalogs through the write client.

Policy expressions come back deparsed by PostgreSQL (`(tenant_id = auth.tenant_id())`),
so declared expressions are compared in the same form: `canonical_policies` lets the
server deparse them by creating them as probe policies in a transaction that is always
rolled back (with a short lock_timeout, as CREATE POLICY locks the table briefly).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from refresh.db.clients import write_client
from refresh.schema.migration_sql import render
from refresh.schema.state import AppState, PolicyState, TableState
from refresh.tenancy.declarations import TENANT_COLUMN
from settings import get_settings

COMMAND_OF = {
    "SELECT": "select",
    "INSERT": "insert",
    "UPDATE": "update",
    "DELETE": "delete",
    "ALL": "all",
}


def role_keys() -> dict[str, str]:
    """Configured role name -> the key declarations use (authenticated, anonymous)."""
    s = get_settings()
    return {s.authenticated_role: "authenticated", s.anonymous_role: "anonymous"}


@dataclass(frozen=True)
class LiveTable:
    name: str
    state: TableState
    estimated_rows: int
    other_grants: dict[str, tuple[str, ...]]  # grants to roles other than the request roles


TABLES_SQL = """
select c.oid, c.relname as name, c.relrowsecurity as enabled,
       c.relforcerowsecurity as forced, greatest(c.reltuples, 0)::bigint as estimated_rows
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p')
"""
POLICIES_SQL = """
select tablename as table, policyname as name, permissive, roles::text[] as roles, cmd,
       qual, with_check
  from pg_policies where schemaname = 'public'
"""
GRANTS_SQL = """
select c.relname as table,
       case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end as grantee,
       lower(a.privilege_type) as privilege
  from pg_class c join pg_namespace n on n.oid = c.relnamespace,
       aclexplode(c.relacl) a
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')
   and a.grantee <> c.relowner
"""
DEFAULTS_SQL = """
select c.relname as table, pg_get_expr(d.adbin, d.adrelid) as expression
  from pg_attrdef d
  join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
  join pg_class c on c.oid = d.adrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and a.attname = $1
"""
TRIGGERS_SQL = """
select c.relname as table
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and not t.tgisinternal and t.tgname = c.relname || '_set_updated_at'
"""


def live_policy(row: dict[str, Any]) -> PolicyState:
    keys = role_keys()
    return PolicyState(
        command=COMMAND_OF[row["cmd"]],
        roles=tuple(sorted(keys.get(r, r) for r in row["roles"])),
        permissive=row["permissive"] == "PERMISSIVE",
        using=row["qual"],
        with_check=row["with_check"],
    )


async def live_tables() -> dict[str, LiveTable]:
    keys = role_keys()
    tables = await write_client.fetch(TABLES_SQL)
    policies = await write_client.fetch(POLICIES_SQL)
    grants = await write_client.fetch(GRANTS_SQL)
    defaults = {
        r["table"]: r["expression"] for r in await write_client.fetch(DEFAULTS_SQL, TENANT_COLUMN)
    }
    triggers = {r["table"] for r in await write_client.fetch(TRIGGERS_SQL)}
    result = {}
    for t in tables:
        name = t["name"]
        request_grants: dict[str, set[str]] = {}
        other_grants: dict[str, set[str]] = {}
        for g in grants:
            if g["table"] == name:
                target = request_grants if g["grantee"] in keys else other_grants
                target.setdefault(keys.get(g["grantee"], g["grantee"]), set()).add(g["privilege"])
        state = TableState(
            kind="unknown",
            enabled=t["enabled"],
            forced=t["forced"],
            policies={p["name"]: live_policy(p) for p in policies if p["table"] == name},
            grants={r: tuple(sorted(p)) for r, p in request_grants.items()},
            tenant_default=defaults.get(name) == "auth.tenant_id()",
            updated_at_trigger=name in triggers,
        )
        result[name] = LiveTable(
            name, state, t["estimated_rows"], {r: tuple(sorted(p)) for r, p in other_grants.items()}
        )
    return result


class ProbeError(Exception):
    """A declared policy expression the server refuses (e.g. a typo, an unknown column)."""

    def __init__(self, table: str, policy: str, message: str, sqlstate: str | None) -> None:
        super().__init__(f"{table}.{policy}: {message}")
        self.table, self.policy, self.message = table, policy, message
        self.sqlstate = sqlstate  # e.g. 42703 (no such column); 55P03: the table was busy

    @property
    def in_expression(self) -> bool:
        """The expression is at fault (syntax, names, types), not the moment (a lock
        that timed out) or the role."""
        state = self.sqlstate or ""
        # 42501: a privilege, 42704: a role or object that is not there (not the rule's)
        return (state.startswith("42") and state not in ("42501", "42704")) or state.startswith(
            "22"
        )


async def canonical_policies(declared: AppState) -> tuple[AppState, list[ProbeError]]:
    """Declared states with policy expressions as the server deparses them."""
    from refresh.schema.sqlgen import create_policy

    errors: list[ProbeError] = []
    canonical: AppState = {}
    async with write_client.transaction() as transaction:
        connection = transaction.connection
        await connection.execute("set local lock_timeout = '2s'")
        for table, state in declared.items():
            probed: dict[str, PolicyState] = {}
            for name, policy in state.policies.items():
                probe = f"rls_probe_{len(probed)}"
                try:
                    async with connection.transaction():  # a savepoint per probe
                        await connection.execute(render(create_policy(table, probe, policy)))
                        row = await connection.fetchrow(
                            "select qual, with_check from pg_policies "
                            "where schemaname = 'public' and tablename = $1 and policyname = $2",
                            table,
                            probe,
                        )
                except Exception as exc:  # the server's refusal is the report
                    errors.append(
                        ProbeError(
                            table, name, str(exc).splitlines()[0], getattr(exc, "sqlstate", None)
                        )
                    )
                    probed[name] = policy
                    continue
                probed[name] = PolicyState(
                    policy.command,
                    policy.roles,
                    policy.permissive,
                    row["qual"] if row else None,
                    row["with_check"] if row else None,
                )
            canonical[table] = replace(state, policies=probed)
        await transaction.rollback()
    return canonical, errors
