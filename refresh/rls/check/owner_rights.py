"""What a request sets off that then runs with its owner's rights instead of the request's.

RLS decides by the role a statement runs as, and the owner of every table here (the
admin role) bypasses RLS. A request can set off statements that run as someone else:

- a rewrite rule (`create rule ... on update to project do also update task ...`): its
  actions are checked against the rights of the table's owner, not of the user whose
  statement fired it (PostgreSQL's "Rules and Privileges"), so a tenant renaming its own
  project rewrites every tenant's tasks;
- a trigger whose function is SECURITY DEFINER: it runs as the function's owner whoever
  fires it. Revoking EXECUTE does not stop it (the privilege is checked when the trigger
  is created, not when it fires), which is why `security_definer_executable`'s fix
  alone leaves it open;
- any trigger on a table whose rows are changed as the owner: by a foreign key's action
  (ON DELETE CASCADE, SET NULL, SET DEFAULT: PostgreSQL runs it as the referencing
  table's owner, and the triggers it fires run so too) on a row a request role may
  delete or update, by the project's SET NULL triggers of tenant keys or the audit
  trigger, and by the cascades those changes set off in turn (CHANGED_AS_OWNER), when
  the trigger fires on that change (a delete, an update, the audit log's insert). A
  SECURITY INVOKER function does not help there: the invoker is the owner.

The fixes drop the rule or the trigger, or make a trigger's function SECURITY INVOKER
where that is enough (its own function, on a table nothing changes as the owner). The
project's own triggers are excepted, and only while their functions are what the project
made: the audit trigger (it must write the audit log, which no request role may) and
`<table>_set_updated_at`, as the rls migrations last define their functions
(refresh/rls/check/project_functions.py), and the SET NULL trigger of each declared
tenant key, as refresh/schema/sharding_sql.py generates it (limited to the deleted row's
tenant); a function changed by hand is reported, with the statement that restores it.
A tenant's erase, done by an operator through the write client, also fires triggers as
the owner; it is not counted here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from piccolo.apps.migrations.tables import Migration

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.rls import APP_NAME as RLS_APP
from refresh.rls.check.exposure import EXTENSION_SCHEMAS, qualified
from refresh.rls.check.problems import ADMIN_OWNS, Problem, owner_sql
from refresh.rls.check.project_functions import (
    PROJECT_FUNCTIONS,
    Definition,
    definition,
    project_definitions,
    words,
)
from refresh.rls.tables import AuditLog, OperatorAction
from refresh.schema.sharding_sql import create_unset_trigger, unset_trigger
from refresh.schema.state import AUDIT_TRIGGER, AppState, TenantKeyState
from settings import get_settings

UPDATED_AT = "set_updated_at"
# pg_trigger.tgtype's bits for the events a trigger fires on (PostgreSQL's trigger.h)
INSERT, DELETE, UPDATE = 1 << 2, 1 << 3, 1 << 4
MOVE = 1 << 7  # not one of them: an update that may move a row to another partition
SYSTEM_SCHEMAS = (
    "n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' "
    "and n.nspname <> all($1::text[])"
)
RULES = f"""
select n.nspname as schema, c.relname as table, r.rulename as name,
       {ADMIN_OWNS.format("c.relowner")} as owned
  from pg_rewrite r join pg_class c on c.oid = r.ev_class
  join pg_namespace n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN'  -- a view's own query, not a rule anyone wrote
   and {SYSTEM_SCHEMAS}
   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                   and d.objid = c.oid and d.deptype = 'e')
 order by 1, 2, 3
"""
TRIGGERS = f"""
with uses(function, triggers) as (  -- counted once: pg_trigger has no index on tgfoid
  select tgfoid, count(*) from pg_trigger where not tgisinternal and tgparentid = 0
   group by tgfoid
)
select n.nspname as schema, c.relname as table, t.tgname as name,
       p.oid::regprocedure::text as function, fn.nspname as function_schema,
       p.proname as function_name, p.prosecdef as definer, p.prosrc as body,
       {ADMIN_OWNS.format("p.proowner")} as owned,
       {ADMIN_OWNS.format("c.relowner")} as table_owned,
       u.triggers as uses, changed.by_owner as changed_as_owner
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join uses u on u.function = t.tgfoid
  -- fired by a change made as the owner: one of the trigger's events is one of the
  -- changes made to its table, or to a partition of it (where its clone fires), as the owner
  cross join lateral (
    select coalesce(bit_or(w.events), 0) & t.tgtype::int <> 0 as by_owner
      from unnest($2::oid[], $3::int[]) w(rel, events)
     where w.rel = c.oid or w.rel in (select relid from pg_partition_tree(c.oid))) changed
  join pg_namespace n on n.oid = c.relnamespace
  join pg_proc p on p.oid = t.tgfoid join pg_namespace fn on fn.oid = p.pronamespace
 where not t.tgisinternal and t.tgparentid = 0  -- a partition's clone goes with its parent's
   and {SYSTEM_SCHEMAS}
   -- an extension's own triggers (Citus's truncate trigger) are the extension's to keep:
   -- on its own table, or with its own function that does not run as its owner
   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                   and d.objid = c.oid and d.deptype = 'e')
   -- (fired by a change made as the owner an invoker function runs as the owner too:
   -- kept; Citus's fires on TRUNCATE alone, which no cascade does)
   and not (not p.prosecdef and not changed.by_owner
            and exists (select from pg_depend d where d.classid = 'pg_proc'::regclass
                        and d.objid = p.oid and d.deptype = 'e'))
 order by 1, 2, 3
"""


# The tables whose rows are changed as their owner when a request sets it off, each with
# the changes made to it (a trigger on other events is not counted): those a key's action
# changes (ON DELETE CASCADE deletes; SET NULL, SET DEFAULT and ON UPDATE CASCADE update;
# PostgreSQL runs it as the referencing table's owner) when a request role deletes or
# updates (a column grant is enough) the row it refers to, those the project's
# owner-rights triggers write ($2, $3), and, through further keys' actions, every table
# those changes cascade into. A table's rows change with its parent's (partitions; for
# what a request names, old-style inheritance too). An update of a partition key's
# column (MOVE) may move a row to another partition: a delete from one, an insert into
# another. Each row of `changed` is one change, and `edges` says what it sets off: a
# join, so that the recursion stays cheap on thousands of tables. Where it cannot tell, it
# counts (reported rather than missed): any update is taken to change the key it refers
# to, a trigger's `UPDATE OF` columns and WHEN are not compared, and an AFTER trigger is
# counted on PostgreSQL 15 too, where one fired by a key's action runs as the request's role.
CHANGED_AS_OWNER = f"""
with recursive tree(root, rel) as (
  -- every table with itself and all that inherits from it, at every level
  select c.oid, c.oid from pg_class c where c.relkind in ('r', 'p')
  union
  select t.root, i.inhrelid from tree t join pg_inherits i on i.inhparent = t.rel
),
partition_columns(rel, name) as (
  -- the columns of a table whose update may move its row (null: any, an expression key)
  select t.root, a.attname
    from tree t join pg_partitioned_table p on p.partrelid = t.rel
    cross join unnest(p.partattrs::int2[]) k(attnum)
    left join pg_attribute a on a.attrelid = t.rel and a.attnum = k.attnum and k.attnum <> 0
),
actions(src, src_events, dst, dst_events) as (
  select k.confrelid, a.src_events, k.conrelid,
         case when a.action = 'c' and a.src_events = {DELETE} then {DELETE}
              when exists (select from partition_columns m
                            where m.rel = k.conrelid
                              and (m.name is null or m.name in (
                                select attname from pg_attribute
                                 where attrelid = k.conrelid and attnum = any(a.columns))))
              then {MOVE}
              else {UPDATE} end
    from pg_constraint k cross join lateral (values
      ({DELETE}, k.confdeltype, coalesce(k.confdelsetcols, k.conkey)),
      ({UPDATE}, k.confupdtype, k.conkey),
      ({MOVE}, k.confupdtype, k.conkey)) a(src_events, action, columns)
   where k.contype = 'f' and a.action in ('c', 'n', 'd')
),
edges(src, src_events, dst, dst_events) as (
  select * from actions
  union all
  select t.root, e.src, t.rel, e.dst
    from tree t join pg_class c on c.oid = t.rel and c.relispartition
    cross join (values ({INSERT}, {INSERT}), ({DELETE}, {DELETE}), ({UPDATE}, {UPDATE}),
                       ({MOVE}, {INSERT}), ({MOVE}, {DELETE}), ({MOVE}, {UPDATE})) e(src, dst)
),
direct(rel, events) as (
  -- what a request role changes itself, as itself: not counted, but its keys' actions are
  select t.rel, x.events from tree t, unnest($1::text[]) r(role)
   join pg_roles g on g.rolname = r.role  -- one missing is read_role_problems' to report
   cross join lateral (values
     (case when has_table_privilege(r.role, t.root, 'DELETE') then {DELETE} end),
     (case when has_any_column_privilege(r.role, t.root, 'UPDATE') then {UPDATE} end),
     (case when t.rel <> t.root and exists (  -- a row moved out of a partition
        select from partition_columns m where m.rel = t.root
           and (has_column_privilege(r.role, t.root, m.name, 'UPDATE')
                or m.name is null and has_any_column_privilege(r.role, t.root, 'UPDATE')))
      then {DELETE} end)) x(events)
   where x.events is not null
),
changed(rel, events) as (
  select a.dst, a.dst_events from direct d
    join actions a on a.src = d.rel and a.src_events = d.events
  union
  select t.rel, w.events from unnest($2::text[], $3::int[]) w(name, events)
    join pg_class c on c.relname = w.name
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
    join tree t on t.root = c.oid  -- their statements name no ONLY: children too
  union
  select e.dst, e.dst_events from changed ch
    join edges e on e.src = ch.rel and e.src_events = ch.events
)
select rel, bit_or(case when events = {MOVE} then {UPDATE} else events end) as events
  from changed group by rel
"""


def set_null_keys(
    declared: dict[str, AppState],
) -> dict[tuple[str, str], tuple[str, TenantKeyState]]:
    """(referenced table, trigger) -> (table, key) of each declared tenant key whose
    SET NULL the project's trigger does (as the owner)."""
    return {
        (key.references, unset_trigger(table, key.column)): (table, key)
        for state in declared.values()
        for table, table_state in state.items()
        for key in table_state.tenant_keys.values()
        if key.on_delete == "set null"
    }


def written_as_owner(
    keys: dict[tuple[str, str], tuple[str, TenantKeyState]],
) -> list[tuple[str, int]]:
    """What the project's owner-rights triggers write: the SET NULL triggers update the
    tables with those keys (a row of a table partitioned on the key may move), the audit
    trigger inserts into its tables."""
    audit = [(AuditLog._meta.tablename, INSERT), (OperatorAction._meta.tablename, INSERT)]
    return [(table, MOVE) for table, _ in keys.values()] + audit


def unset_definition(table: str, key: TenantKeyState) -> Definition:
    """The SET NULL trigger's function as create_unset_trigger makes it; the fix is the
    whole of what it makes (function, revoke, trigger)."""
    made = create_unset_trigger(table, key)
    return replace(definition(made[0]), statement="\n".join(made))


def project_trigger(row: Any, keys: dict[tuple[str, str], tuple[str, TenantKeyState]]) -> bool:
    """A trigger the declarations generate, with the project's function (by schema and
    name, never a same-named one elsewhere)."""
    if (row["schema"], row["function_schema"]) != ("public", "public"):
        return False
    name, function = row["name"], row["function_name"]
    if (name, function) == (AUDIT_TRIGGER, AUDIT_TRIGGER):
        return True
    if (name, function) == (f"{row['table']}_{UPDATED_AT}", UPDATED_AT):
        return True
    return name == function and (row["table"], name) in keys


def rule_problem(row: Any) -> Problem:
    table = qualified(row["schema"], row["table"])
    return Problem(
        "rule_runs_as_owner",
        table,
        f"rule {row['name']} runs its actions with the rights of the table's owner, who "
        "bypasses RLS: a request that fires it reads and writes every tenant's rows (a "
        "trigger whose function is SECURITY INVOKER does the same work under the request's "
        "policies)",
        owner_sql(f"drop rule {ident(row['name'])} on {table};", row["owned"]),
    )


def trigger_problem(row: Any, changed_as_owner: bool) -> Problem:
    table = qualified(row["schema"], row["table"])
    drop = owner_sql(f"drop trigger {ident(row['name'])} on {table};", row["table_owned"])
    invoker = owner_sql(f"alter function {row['function']} security invoker;", row["owned"])
    if not row["definer"]:
        message = (
            f"trigger {row['name']} fires when this table's rows are changed as its owner (a "
            "foreign key's ON DELETE/UPDATE action, the project's SET NULL trigger of a "
            "tenant key, or the audit trigger), so its function runs past RLS even as "
            "SECURITY INVOKER: a tenant deleting its own row sets it off on every tenant's"
        )
        return Problem("trigger_runs_as_owner", table, message, drop)
    message = (
        f"trigger {row['name']} calls SECURITY DEFINER function {row['function']}: it runs "
        "as the function's owner, past RLS, whichever tenant fires it (revoking EXECUTE "
        "does not stop a trigger)"
    )
    project_function = row["function_schema"] == "public" and row["function_name"]
    # SECURITY INVOKER is enough only for a function of its own (not the audit's, which
    # must write the audit log) on a table nothing changes as the owner
    if row["uses"] == 1 and project_function not in PROJECT_FUNCTIONS and not changed_as_owner:
        return Problem("trigger_runs_as_owner", table, message, invoker)
    return Problem("trigger_runs_as_owner", table, message, drop)


def changed_function(row: Any, expected: Definition, applied: set[str]) -> Problem:
    """The function differs from its migrations' last definition. When that migration has
    not run here, the problem is the rls app's, explained by its migration_not_applied
    (whose `forwards` creates the function as defined)."""
    pending = expected.migration not in applied
    return Problem(
        "trigger_runs_as_owner",
        None,
        f"function {row['function']}, of the project's {row['name']} triggers, is not the one "
        "its migrations define (its body or SECURITY DEFINER differ): it runs as the owner, "
        "past RLS, under the project's name",
        owner_sql(expected.statement, row["owned"]),
        RLS_APP if expected.migration and pending else None,
    )


async def owner_rights_problems(declared: dict[str, AppState]) -> list[Problem]:
    schemas = list(EXTENSION_SCHEMAS)
    problems = [rule_problem(row) for row in await write_client.fetch(RULES, schemas)]
    keys = set_null_keys(declared)
    functions = project_definitions()
    applied = set(await Migration.get_migrations_which_ran(app_name=RLS_APP))
    written = written_as_owner(keys)
    s = get_settings()
    roles = [s.authenticated_role, s.anonymous_role]
    changed = await write_client.fetch(
        CHANGED_AS_OWNER, roles, [name for name, _ in written], [event for _, event in written]
    )
    tables, events = [row["rel"] for row in changed], [row["events"] for row in changed]
    reported: set[str] = set()
    for row in await write_client.fetch(TRIGGERS, schemas, tables, events):
        if not project_trigger(row, keys):
            if row["definer"] or row["changed_as_owner"]:
                problems.append(trigger_problem(row, row["changed_as_owner"]))
            continue
        key = keys.get((row["table"], row["name"]))
        expected = unset_definition(*key) if key else functions.get(row["function_name"])
        if expected is None or row["function"] in reported:
            continue
        if (words(row["body"]), row["definer"]) != (expected.words, expected.definer):
            reported.add(row["function"])
            problems.append(changed_function(row, expected, applied))
    return problems
