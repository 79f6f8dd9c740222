"""SQL that takes tables from one RLS state to another (used forwards and backwards).

Role names stay placeholders ({authenticated}, {anonymous}) and are filled in from
settings when the migration runs, so one migration serves every configuration.
"""

from __future__ import annotations

from dataclasses import replace

from refresh.db.sql import ident, quote_literal
from refresh.schema.sharding_sql import (
    create_unset_trigger,
    drop_unset_trigger,
    place_new_tables_sql,
    rekey_sql,
)
from refresh.schema.state import (
    AUDIT_TRIGGER,
    AppState,
    AuditState,
    PolicyState,
    TableState,
    TenantKeyState,
)
from refresh.tenancy.declarations import COMMANDS, TENANT_COLUMN

ROLE_PLACEHOLDER = {"authenticated": "{authenticated}", "anonymous": "{anonymous}"}
EMPTY = TableState("global", False, False)


def create_policy(table: str, name: str, policy: PolicyState) -> str:
    roles = ", ".join(ROLE_PLACEHOLDER[r] for r in policy.roles)
    kind = "permissive" if policy.permissive else "restrictive"
    sql = f"create policy {ident(name)} on {ident(table)} as {kind} for {policy.command} to {roles}"
    if policy.using is not None:
        sql += f"\n  using ({policy.using})"
    if policy.with_check is not None:
        sql += f"\n  with check ({policy.with_check})"
    return sql + ";"


def create_tenant_key(table: str, name: str, key: TenantKeyState) -> list[str]:
    columns = f"{TENANT_COLUMN}, {ident(key.column)}"
    set_null = key.on_delete == "set null"
    statements = [
        f"alter table {ident(table)} add constraint {ident(name)}\n"
        f"  foreign key ({columns}) references {ident(key.references)} ({TENANT_COLUMN}, id)"
        f" on delete {'no action' if set_null else key.on_delete};",
        f"create index if not exists {ident(key.index)} on {ident(table)} ({columns});",
    ]
    return statements + (create_unset_trigger(table, key) if set_null else [])


def drop_tenant_key(
    table: str, name: str, key: TenantKeyState, keep_index: bool = False
) -> list[str]:
    # IF EXISTS twice: an auto migration that ran first may have dropped the table.
    statements = [f"alter table if exists {ident(table)} drop constraint if exists {ident(name)};"]
    if not keep_index:
        statements.append(f"drop index if exists {ident(key.index)};")
    return statements + (drop_unset_trigger(table, key) if key.on_delete == "set null" else [])


def create_audit_trigger(table: str, audit: AuditState) -> str:
    # The logical table name is passed in: under Citus the trigger fires on a shard,
    # whose name (task_102181) is not the table's.
    arguments = ", ".join(quote_literal(a) for a in (table, audit.tenant_column, *audit.quiet))
    return (
        f"create trigger {AUDIT_TRIGGER} after insert or update or delete on {ident(table)}\n"
        f"  for each row execute function public.audit_change({arguments});"
    )


def policy_sql(table: str, before: TableState, after: TableState) -> tuple[list[str], list[str]]:
    """(drops, creates): changed policies are dropped and created again, since ALTER POLICY
    cannot change the command or permissive/restrictive, nor drop a WITH CHECK."""
    drops = [
        f"drop policy if exists {ident(name)} on {ident(table)};"
        for name, policy in sorted(before.policies.items())
        if after.policies.get(name) != policy
    ]
    creates = [
        create_policy(table, name, policy)
        for name, policy in sorted(after.policies.items())
        if before.policies.get(name) != policy
    ]
    return drops, creates


def grant_sql(table: str, before: TableState, after: TableState) -> list[str]:
    out = []
    for role in sorted(set(before.grants) | set(after.grants)):
        had, has = set(before.grants.get(role, ())), set(after.grants.get(role, ()))
        placeholder = ROLE_PLACEHOLDER[role]
        if had - has:
            privileges = ", ".join(p for p in COMMANDS if p in had - has)
            out.append(f"revoke {privileges} on {ident(table)} from {placeholder};")
        if has - had:
            privileges = ", ".join(p for p in COMMANDS if p in has - had)
            out.append(f"grant {privileges} on {ident(table)} to {placeholder};")
    return out


def trigger_sql(table: str, before: TableState, after: TableState) -> list[str]:
    out = []
    if before.tenant_default != after.tenant_default:
        default = "set default auth.tenant_id()" if after.tenant_default else "drop default"
        out.append(f"alter table {ident(table)} alter column {TENANT_COLUMN} {default};")
    if before.updated_at_trigger != after.updated_at_trigger:
        trigger = ident(f"{table}_set_updated_at")
        if after.updated_at_trigger:
            out.append(
                f"create trigger {trigger} before update on {ident(table)}\n"
                "  for each row execute function public.set_updated_at();"
            )
        else:
            out.append(f"drop trigger if exists {trigger} on {ident(table)};")
    if before.audit != after.audit:
        if before.audit is not None:
            out.append(f"drop trigger if exists {AUDIT_TRIGGER} on {ident(table)};")
        if after.audit is not None:
            out.append(create_audit_trigger(table, after.audit))
    return out


def key_sql(table: str, before: TableState, after: TableState) -> tuple[list[str], list[str]]:
    """(drops, creates) of composite tenant keys that changed; all of them when the table
    is keyed by tenant or no longer (their SQL differs: sharding_sql)."""
    rekeyed = before.tenant_keyed != after.tenant_keyed
    drops, creates = [], []
    for name, key in sorted(before.tenant_keys.items()):
        wanted = after.tenant_keys.get(name)
        if wanted == key and not rekeyed:
            continue
        # The same key made again, or only its delete action changed: the index on the
        # same columns can stay, rather than be rebuilt under the migration's locks.
        same_columns = wanted is not None and replace(key, on_delete=wanted.on_delete) == wanted
        drops += drop_tenant_key(table, name, key, keep_index=same_columns)
    for name, key in sorted(after.tenant_keys.items()):
        if rekeyed or before.tenant_keys.get(name) != key:
            creates += create_tenant_key(table, name, key)
    return drops, creates


def target_key_sql(table: str, before: TableState, after: TableState) -> list[str]:
    if before.target_key == after.target_key:
        return []
    out = []
    if before.target_key is not None:
        out.append(
            f"alter table {ident(table)} drop constraint if exists {ident(before.target_key)};"
        )
    if after.target_key is not None:
        out.append(
            f"alter table {ident(table)} add constraint {ident(after.target_key)}"
            f" unique ({TENANT_COLUMN}, id);"
        )
    return out


def table_sql(table: str, old: TableState | None, new: TableState | None) -> list[str]:
    """Statements taking one table from `old` to `new` (None: not managed), tenant keys
    aside (`key_sql`)."""
    before, after = old or EMPTY, new or EMPTY
    out: list[str] = []
    policy_drops, policy_creates = policy_sql(table, before, after)
    out += policy_drops
    if before.enabled != after.enabled:
        verb = "enable" if after.enabled else "disable"
        out.append(f"alter table {ident(table)} {verb} row level security;")
    if before.forced != after.forced:
        out.append(
            f"alter table {ident(table)} {'' if after.forced else 'no '}force row level security;"
        )
    out += policy_creates
    out += grant_sql(table, before, after)
    out += trigger_sql(table, before, after)
    if before.tenant_keyed != after.tenant_keyed:
        # the unique (tenant_id, id) goes with it: the primary key is that, or it is back
        return out + rekey_sql(table, after.tenant_keyed, (new or old or EMPTY).kind)
    return out + target_key_sql(table, before, after)


def state_sql(old: AppState, new: AppState) -> str:
    """The whole script, one commented block per table that changes.

    Tenant keys are dropped first and created last: a key depends on the unique
    (tenant_id, id) of the table it references, which the same script may create or drop.
    """
    tables = sorted(set(old) | set(new))
    drops, creates = [], []
    for table in tables:
        key_drops, key_creates = key_sql(table, old.get(table) or EMPTY, new.get(table) or EMPTY)
        drops += key_drops
        creates += key_creates
    blocks = [_block("tenant foreign keys dropped", drops)] if drops else []
    for table in tables:
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
        blocks.append(_block(f"{table} ({kind} table)", statements))
    placed = place_new_tables_sql(
        {t: new[t].distribution for t in tables if t not in old and t in new}
    )
    if placed:
        blocks.append(_block("on a Citus cluster, new tables placed before their keys", placed))
    if creates:
        blocks.append(
            _block("tenant foreign keys: (tenant_id, x_id) -> x (tenant_id, id)", creates)
        )
    return "\n\n".join(blocks)


def _block(title: str, statements: list[str]) -> str:
    return f"-- {title}\n" + "\n".join(statements)


def _dollar(statement: str) -> str:
    return "$stmt$" + statement.rstrip(";") + "$stmt$"
