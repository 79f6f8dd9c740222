"""The catalog queries of refresh/rls/check/owner_rights.py (see its docstring): the rewrite
rules, the triggers a request's change fires, and the tables whose rows are changed as
their owner, with the events (pg_trigger.tgtype's bits) each change fires."""

from __future__ import annotations

from refresh.rls.check.problems import ADMIN_OWNS

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
