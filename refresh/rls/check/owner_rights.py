"""What a request sets off that then runs with its owner's rights instead of the request's.

RLS decides by the role a statement runs as. Two things a request can fire run as
someone else, and the owner of every table here (the admin role) bypasses RLS:

- a rewrite rule (`create rule ... on update to project do also update task ...`): its
  actions are checked against the rights of the table's owner, not of the user whose
  statement fired it (PostgreSQL's "Rules and Privileges"), so a tenant renaming its own
  project rewrites every tenant's tasks;
- a trigger whose function is SECURITY DEFINER: it runs as the function's owner whoever
  fires it. Revoking EXECUTE does not stop it (the privilege is checked when the trigger
  is created, not when it fires), which is why `security_definer_executable`'s fix
  alone leaves it open.

A trigger whose function is SECURITY INVOKER does the same work under the request's
role and policies: the fixes make it so, or drop the rule. The project's own owner-rights
triggers are excepted, and only they: the audit trigger (it must write the audit log,
which no request role may) and the SET NULL triggers generated for declared tenant keys
(refresh/schema/sharding_sql.py: each limited to the deleted row's tenant)."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.rls.check.exposure import EXTENSION_SCHEMAS, qualified
from refresh.rls.check.problems import ADMIN_OWNS, Problem, owner_sql
from refresh.schema.sharding_sql import unset_trigger
from refresh.schema.state import AUDIT_TRIGGER, AppState

RULES = f"""
select n.nspname as schema, c.relname as table, r.rulename as name,
       {ADMIN_OWNS.format("c.relowner")} as owned
  from pg_rewrite r join pg_class c on c.oid = r.ev_class
  join pg_namespace n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN'  -- a view's own query, not a rule anyone wrote
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
   and n.nspname <> all($1::text[])
   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                   and d.objid = c.oid and d.deptype = 'e')
 order by 1, 2, 3
"""
DEFINER_TRIGGERS = f"""
select n.nspname as schema, c.relname as table, t.tgname as name,
       p.oid::regprocedure::text as function, fn.nspname as function_schema,
       p.proname as function_name, {ADMIN_OWNS.format("p.proowner")} as owned
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_proc p on p.oid = t.tgfoid join pg_namespace fn on fn.oid = p.pronamespace
 where not t.tgisinternal and p.prosecdef
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
   and n.nspname <> all($1::text[])
   -- an extension's own trigger functions are the extension's to keep
   and not exists (select from pg_depend d where d.classid = 'pg_proc'::regclass
                   and d.objid = p.oid and d.deptype = 'e')
 order by 1, 2, 3
"""


def project_triggers(declared: dict[str, AppState]) -> set[tuple[str, str]]:
    """(table, trigger) of the owner-rights triggers the declarations generate, besides
    the audit trigger: the SET NULL trigger of each tenant key, on the referenced table."""
    return {
        (key.references, unset_trigger(table, key.column))
        for state in declared.values()
        for table, table_state in state.items()
        for key in table_state.tenant_keys.values()
        if key.on_delete == "set null"
    }


async def owner_rights_problems(declared: dict[str, AppState]) -> list[Problem]:
    problems = []
    for row in await write_client.fetch(RULES, list(EXTENSION_SCHEMAS)):
        table = qualified(row["schema"], row["table"])
        problems.append(
            Problem(
                "rule_runs_as_owner",
                table,
                f"rule {row['name']} runs its actions with the rights of the table's owner, "
                "who bypasses RLS: a request that fires it reads and writes every tenant's "
                "rows (a trigger whose function is SECURITY INVOKER does the same work "
                "under the request's policies)",
                owner_sql(f"drop rule {ident(row['name'])} on {table};", row["owned"]),
            )
        )
    generated = project_triggers(declared)
    for row in await write_client.fetch(DEFINER_TRIGGERS, list(EXTENSION_SCHEMAS)):
        own = (row["schema"], row["function_schema"]) == ("public", "public") and (
            (row["name"], row["function_name"]) == (AUDIT_TRIGGER, AUDIT_TRIGGER)
            or (row["name"] == row["function_name"] and (row["table"], row["name"]) in generated)
        )
        if own:
            continue
        problems.append(
            Problem(
                "trigger_runs_as_owner",
                qualified(row["schema"], row["table"]),
                f"trigger {row['name']} calls SECURITY DEFINER function {row['function']}: "
                "it runs as the function's owner, past RLS, whichever tenant fires it "
                "(revoking EXECUTE does not stop a trigger)",
                owner_sql(f"alter function {row['function']} security invoker;", row["owned"]),
            )
        )
    return problems
