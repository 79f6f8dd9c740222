"""SQL that takes tables from one RLS state to another (used forwards and backwards).

Role names stay placeholders ({authenticated}, {anonymous}) and are filled in from
settings when the migration runs, so one migration serves every configuration.
"""

from __future__ import annotations

from refresh.db.sql import ident, quote_literal
from refresh.schema.state import AppState, PolicyState, TableState
from refresh.tenancy.declarations import COMMANDS, TENANT_COLUMN

ROLE_PLACEHOLDER = {"authenticated": "{authenticated}", "anonymous": "{anonymous}"}


def create_policy(table: str, name: str, policy: PolicyState) -> str:
    roles = ", ".join(ROLE_PLACEHOLDER[r] for r in policy.roles)
    kind = "permissive" if policy.permissive else "restrictive"
    sql = f"create policy {ident(name)} on {ident(table)} as {kind} for {policy.command} to {roles}"
    if policy.using is not None:
        sql += f"\n  using ({policy.using})"
    if policy.with_check is not None:
        sql += f"\n  with check ({policy.with_check})"
    return sql + ";"


def table_sql(table: str, old: TableState | None, new: TableState | None) -> list[str]:
    """Statements taking one table from `old` to `new` (None: not managed)."""
    name_of_table = table
    table = ident(table)
    empty = TableState("global", False, False)
    before, after = old or empty, new or empty
    out: list[str] = []

    for name, policy in sorted(before.policies.items()):
        if after.policies.get(name) != policy:
            # Changed policies are dropped and created again: ALTER POLICY cannot change
            # the command or permissive/restrictive, nor drop a WITH CHECK.
            out.append(f"drop policy if exists {ident(name)} on {table};")
    if before.enabled != after.enabled:
        out.append(
            f"alter table {table} {'enable' if after.enabled else 'disable'} row level security;"
        )
    if before.forced != after.forced:
        out.append(f"alter table {table} {'' if after.forced else 'no '}force row level security;")
    for name, policy in sorted(after.policies.items()):
        if before.policies.get(name) != policy:
            out.append(create_policy(name_of_table, name, policy))

    for role in sorted(set(before.grants) | set(after.grants)):
        had, has = set(before.grants.get(role, ())), set(after.grants.get(role, ()))
        placeholder = ROLE_PLACEHOLDER[role]
        if had - has:
            privileges = ", ".join(p for p in COMMANDS if p in had - has)
            out.append(f"revoke {privileges} on {table} from {placeholder};")
        if has - had:
            privileges = ", ".join(p for p in COMMANDS if p in has - had)
            out.append(f"grant {privileges} on {table} to {placeholder};")

    if before.tenant_default != after.tenant_default:
        default = "set default auth.tenant_id()" if after.tenant_default else "drop default"
        out.append(f"alter table {table} alter column {TENANT_COLUMN} {default};")
    if before.updated_at_trigger != after.updated_at_trigger:
        trigger = ident(f"{name_of_table}_set_updated_at")
        if after.updated_at_trigger:
            out.append(
                f"create trigger {trigger} before update on {table}\n"
                "  for each row execute function public.set_updated_at();"
            )
        else:
            out.append(f"drop trigger if exists {trigger} on {table};")
    return out


def state_sql(old: AppState, new: AppState) -> str:
    """The whole script, one commented block per table that changes."""
    blocks = []
    for table in sorted(set(old) | set(new)):
        statements = table_sql(table, old.get(table), new.get(table))
        if not statements:
            continue
        if table not in new:
            # No longer declared: the table may be gone already (dropped by an auto
            # migration that ran first), so only touch it if it still exists.
            body = "\n".join(f"    execute {_dollar(s)};" for s in statements)
            statements = [
                f"do $guard$ begin\n  if to_regclass({quote_literal('public.' + ident(table))})"
                " is not null then\n"
                f"{body}\n  end if;\nend $guard$;"
            ]
        kind = (new.get(table) or old[table]).kind
        blocks.append(f"-- {table} ({kind} table)\n" + "\n".join(statements))
    return "\n\n".join(blocks)


def _dollar(statement: str) -> str:
    return "$stmt$" + statement.rstrip(";") + "$stmt$"
