"""Checks of the database as a whole: the read login role, views, SECURITY DEFINER
functions, temporary tables, and policies written in a slow or unportable form."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.db.sql import ident, quote_ident
from refresh.rls.check.exposure import qualified
from refresh.rls.check.indexes import create_index
from refresh.rls.check.problems import ADMIN_OWNS, SUPERUSER, Problem, owner_sql, sql
from settings import get_settings

READ_ROLE = """
select r.rolsuper, r.rolbypassrls,
  (select count(*) from pg_class where relowner = r.oid)
  + (select count(*) from pg_proc where proowner = r.oid)
  + (select count(*) from pg_namespace where nspowner = r.oid) as owned,
  array(select distinct c.relname::text from pg_class c, aclexplode(c.relacl) a
         where a.grantee = r.oid and c.relkind in ('r', 'p', 'v', 'm')) as granted
  from pg_roles r where r.rolname = $1
"""
VIEWS_WITHOUT_INVOKER = f"""
select n.nspname as schema, c.relname as name, {ADMIN_OWNS.format("c.relowner")} as owned
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'v' and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname not like 'pg_%'
   -- an extension's own views (Citus's citus_tables, ...) are the extension's to keep
   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                   and d.objid = c.oid and d.deptype = 'e')
   and not coalesce(c.reloptions @> array['security_invoker=true']
                    or c.reloptions @> array['security_invoker=on'], false)
"""
DEFINER_SEARCH_PATHS = f"""
select p.oid::regprocedure::text as name, {ADMIN_OWNS.format("p.proowner")} as owned,
       (select c from unnest(p.proconfig) c where c like 'search_path=%') as search_path
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
"""
TEMP_PRIVILEGE = """
select r.rolname from pg_roles r
 where r.rolname = any($1::text[]) and has_database_privilege(r.oid, current_database(), 'TEMP')
"""
DEFINER_FUNCTIONS = f"""
select p.oid::regprocedure::text as name, {ADMIN_OWNS.format("p.proowner")} as owned
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
   and (has_function_privilege($1, p.oid, 'execute')
        or has_function_privilege($2, p.oid, 'execute'))
"""
POLICY_FUNCTIONS = """
select pc.relname as table, pol.polname as name, pr.oid::regprocedure::text as function,
       pr.provolatile::text as volatility
  from pg_policy pol join pg_class pc on pc.oid = pol.polrelid
  join pg_namespace n on n.oid = pc.relnamespace
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = pol.oid
  join pg_proc pr on d.refclassid = 'pg_proc'::regclass and pr.oid = d.refobjid
 where n.nspname = 'public'
"""
POLICY_COLUMNS = """
select pc.relname as table, a.attname as column,
       array_agg(distinct pol.polname order by pol.polname) as names
  from pg_policy pol join pg_class pc on pc.oid = pol.polrelid
  join pg_namespace n on n.oid = pc.relnamespace
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = pol.oid
  join pg_attribute a on d.refclassid = 'pg_class'::regclass and a.attrelid = d.refobjid
                     and a.attnum = d.refobjsubid
 where n.nspname = 'public' and d.refobjsubid > 0
   and not exists (select from pg_index i where i.indrelid = pc.oid and i.indkey[0] = a.attnum)
 group by pc.relname, a.attname
"""
# A subquery is a SubLink node in the policy's parsed expression: its text can say
# "select" without one (a column selected_at, a string 'select').
POLICY_EXPRESSIONS = """
select c.relname as table, p.polname as name,
       coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' ||
       coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as expression,
       coalesce(p.polqual::text, '') || ' ' || coalesce(p.polwithcheck::text, '')
           like '%{SUBLINK %' as subquery
  from pg_policy p join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public'
"""


async def read_role_problems() -> list[Problem]:
    s = get_settings()
    role = s.authenticator_role
    rows = await write_client.fetch(READ_ROLE, role)
    login, admin = quote_ident(role), quote_ident(s.admin_role)
    if not rows:
        # The first migration creates it; once that ran (for another role name, or before
        # the role was dropped), `forwards` would do nothing: create it as that migration
        # does (a password, if READ_DATABASE_URL has one, is the operator's to set).
        message = f"the read login role {role} does not exist"
        create = (
            f"create role {login} login noinherit nosuperuser nobypassrls nocreatedb "
            f"nocreaterole; grant {quote_ident(s.authenticated_role)} to {login}; "
            f"grant {quote_ident(s.anonymous_role)} to {login};"
        )
        return [Problem("read_role_missing", None, message, sql(create))]
    row = rows[0]
    revokes = " ".join(f"revoke all on {ident(t)} from {login};" for t in row["granted"])
    checks = [
        (
            row["rolsuper"],
            "read_role_superuser",
            "is a superuser: RLS does not apply to it",
            sql(f"alter role {login} nosuperuser;", SUPERUSER),
        ),
        (
            row["rolbypassrls"],
            "read_role_bypassrls",
            "has BYPASSRLS: every policy is skipped",
            sql(f"alter role {login} nobypassrls;", SUPERUSER),
        ),
        (
            row["owned"] > 0,
            "read_role_owns_objects",
            f"owns {row['owned']} object(s): owners skip RLS unless it is forced",
            sql(f"reassign owned by {login} to {admin};", SUPERUSER),
        ),
        (
            bool(row["granted"]),
            "read_role_has_grants",
            f"holds direct grants on {', '.join(row['granted'])}: a query outside a request "
            "transaction would see data",
            sql(revokes),
        ),
    ]
    return [
        Problem(code, None, f"the read login role {role} {message}", fix)
        for failed, code, message, fix in checks
        if failed
    ]


async def object_problems() -> list[Problem]:
    s = get_settings()
    problems = [
        Problem(
            "view_without_security_invoker",
            view,
            "view runs with its owner's rights: it bypasses the RLS of the tables it reads",
            owner_sql(f"alter view {view} set (security_invoker = true);", row["owned"]),
        )
        for row in await write_client.fetch(VIEWS_WITHOUT_INVOKER)
        # outside public by its schema too: the bare name would find no view, or another
        for view in [qualified(row["schema"], row["name"])]
    ]
    request_roles = f"{quote_ident(s.authenticated_role)}, {quote_ident(s.anonymous_role)}"
    for row in await write_client.fetch(DEFINER_FUNCTIONS, s.authenticated_role, s.anonymous_role):
        problems.append(
            Problem(
                "security_definer_executable",
                None,
                f"SECURITY DEFINER function {row['name']} is executable by request roles: it "
                "runs as its owner and can read past RLS",
                owner_sql(
                    f"revoke execute on function {row['name']} from public, {request_roles};",
                    row["owned"],
                ),
            )
        )
    for row in await write_client.fetch(DEFINER_SEARCH_PATHS):
        path = (row["search_path"] or "").removeprefix("search_path=").replace(" ", "")
        if not path.endswith("pg_temp"):
            problems.append(
                Problem(
                    "security_definer_search_path",
                    None,
                    f"SECURITY DEFINER function {row['name']} does not end its search_path "
                    "with pg_temp: a caller's temporary objects are found first and run "
                    "with the owner's rights",
                    owner_sql(
                        f"alter function {row['name']} "
                        "set search_path = pg_catalog, public, pg_temp;",
                        row["owned"],
                    ),
                )
            )
    roles = [s.authenticator_role, s.authenticated_role, s.anonymous_role]
    rows = await write_client.fetch(TEMP_PRIVILEGE, roles)
    if rows:
        database = (await write_client.fetch("select current_database() as name"))[0]["name"]
        holders = ", ".join(["public", *(quote_ident(r["rolname"]) for r in rows)])
        problems.append(
            Problem(
                "request_role_temp_tables",
                None,
                f"{', '.join(r['rolname'] for r in rows)} may create temporary tables: one "
                "outlives the request on a pooled connection and can shadow a real table for "
                "the next tenant",
                sql(f"revoke temporary on database {quote_ident(database)} from {holders};"),
            )
        )
    return problems


def drop_policy(table: str, name: str) -> str:
    return f"drop policy {ident(name)} on {ident(table)};"


async def policy_form_problems() -> list[Problem]:
    """Policies of a slow or unportable form. A declared policy is never of one (the
    declaration is refused first: declared_policy_subquery, refresh/tenancy/tenant_rows.py):
    the fix drops the one found, and `piccolo rls check` names any declared policy that
    this leaves missing."""
    problems = []
    for row in await write_client.fetch(POLICY_EXPRESSIONS):
        expression = row["expression"]
        if not row["subquery"]:
            continue
        correlated = "tenant_id()" in expression and "= " in expression
        message = (
            f"policy {row['name']} wraps the comparison in a subquery "
            "((select auth.tenant_id() = tenant_id), Drizzle's authUid form): a full scan "
            "with a subquery per row, measured 1,900-50,000x slower than a plain filter "
            "(declare tenant_id = auth.tenant_id() instead)"
            if correlated
            else f"policy {row['name']} contains a subquery: Citus refuses it on "
            "distributed tables, and the planner cannot use an index through it"
        )
        fix = sql(drop_policy(row["table"], row["name"]))
        problems.append(Problem("policy_subquery", row["table"], message, fix))
    for row in await write_client.fetch(POLICY_FUNCTIONS):
        if row["volatility"] == "v":
            problems.append(
                Problem(
                    "policy_volatile_function",
                    row["table"],
                    f"policy {row['name']} calls VOLATILE {row['function']}: it is evaluated "
                    "for every row and no index can be used",
                    sql(drop_policy(row["table"], row["name"])),
                )
            )
    for row in await write_client.fetch(POLICY_COLUMNS):
        # one problem per column, however many policies filter on it: one index fixes all
        table, column, names = row["table"], row["column"], list(row["names"])
        who = (
            f"policy {names[0]} filters"
            if len(names) == 1
            else f"policies {', '.join(names)} filter"
        )
        problems.append(
            Problem(
                "policy_column_without_index",
                table,
                f"{who} on {column}, which no index leads with",
                sql(create_index(table, [column])),
            )
        )
    return problems
