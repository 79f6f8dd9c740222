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
  trigger, and by the cascades those changes set off in turn (CHANGED_AS_OWNER in
  owner_rights_sql.py), when the trigger fires on that change (a delete, an update, the
  audit log's insert). A SECURITY INVOKER function does not help there: the invoker is
  the owner.

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
from refresh.rls.check.owner_rights_sql import (
    CHANGED_AS_OWNER,
    INSERT,
    MOVE,
    RULES,
    TRIGGERS,
)
from refresh.rls.check.problems import Problem, owner_sql
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
