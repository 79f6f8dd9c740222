"""Checks of the database as a whole: indexes, unique constraints, the read login role,
views, SECURITY DEFINER functions, and policies written in a slow or unportable form."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.rls.check.problems import Problem
from settings import get_settings

FK_WITHOUT_INDEX = """
select c.relname as table, con.conname as name,
       array(select a.attname from unnest(con.conkey) k join pg_attribute a
             on a.attrelid = con.conrelid and a.attnum = k order by a.attnum)::text[] as columns
  from pg_constraint con join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where con.contype = 'f' and n.nspname = 'public'
   and not exists (
     select from pg_index i
      where i.indrelid = con.conrelid
        and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
        and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)
"""
LEADING_INDEX = """
select exists (
  select from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
   where i.indrelid = to_regclass('public.' || quote_ident($1)) and a.attname = $2)
"""
UNIQUE_WITHOUT_TENANT = """
select c.relname as table, ic.relname as name
  from pg_index i join pg_class c on c.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and i.indisunique and not i.indisprimary
   and c.relname = any($1::text[])
   and not exists (select from pg_attribute a where a.attrelid = c.oid
                    and a.attname = 'tenant_id' and a.attnum = any(i.indkey::int2[]))
"""
FK_WITHOUT_TENANT = """
select c.relname as table, con.conname as name
  from pg_constraint con join pg_class c on c.oid = con.conrelid
 where con.contype = 'f' and c.relname = any($1::text[])
   and c.relnamespace = 'public'::regnamespace
   and not exists (select from pg_attribute a where a.attrelid = con.conrelid
                    and a.attname = 'tenant_id' and a.attnum = any(con.conkey))
   -- only keys to tenant rows: a key to a global table (a price list) is shared anyway
   and exists (select from pg_attribute a where a.attrelid = con.confrelid
                and a.attname = 'tenant_id' and not a.attisdropped)
"""
READ_ROLE = """
select r.rolsuper, r.rolbypassrls,
  (select count(*) from pg_class where relowner = r.oid)
  + (select count(*) from pg_proc where proowner = r.oid)
  + (select count(*) from pg_namespace where nspowner = r.oid) as owned,
  array(select distinct c.relname::text from pg_class c, aclexplode(c.relacl) a
         where a.grantee = r.oid and c.relkind in ('r', 'p', 'v', 'm')) as granted
  from pg_roles r where r.rolname = $1
"""
VIEWS_WITHOUT_INVOKER = """
select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'v' and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname not like 'pg_%'
   and not coalesce(c.reloptions @> array['security_invoker=true']
                    or c.reloptions @> array['security_invoker=on'], false)
"""
DEFINER_SEARCH_PATHS = """
select p.oid::regprocedure::text as name,
       (select c from unnest(p.proconfig) c where c like 'search_path=%') as search_path
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
"""
TEMP_PRIVILEGE = """
select r.rolname from pg_roles r
 where r.rolname = any($1::text[]) and has_database_privilege(r.oid, current_database(), 'TEMP')
"""
DEFINER_FUNCTIONS = """
select p.oid::regprocedure::text as name from pg_proc p
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
select pc.relname as table, pol.polname as name, a.attname as column
  from pg_policy pol join pg_class pc on pc.oid = pol.polrelid
  join pg_namespace n on n.oid = pc.relnamespace
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = pol.oid
  join pg_attribute a on d.refclassid = 'pg_class'::regclass and a.attrelid = d.refobjid
                     and a.attnum = d.refobjsubid
 where n.nspname = 'public' and d.refobjsubid > 0
   and not exists (select from pg_index i where i.indrelid = pc.oid and i.indkey[0] = a.attnum)
"""
POLICY_EXPRESSIONS = """
select tablename as table, policyname as name, coalesce(qual, '') || ' ' ||
       coalesce(with_check, '') as expression
  from pg_policies where schemaname = 'public'
"""


async def index_problems(tenant_tables: list[str]) -> list[Problem]:
    problems = [
        Problem(
            "fk_without_index",
            row["table"],
            f"foreign key {row['name']} ({', '.join(row['columns'])}) has no index leading "
            "with its columns: joins and ON DELETE checks scan the table",
            f"add index=True to the column, or an index on ({', '.join(row['columns'])}) in "
            "a migration",
        )
        for row in await write_client.fetch(FK_WITHOUT_INDEX)
    ]
    for table in tenant_tables:
        if not (await write_client.fetch(LEADING_INDEX, table, "tenant_id"))[0]["exists"]:
            problems.append(
                Problem(
                    "tenant_id_without_index",
                    table,
                    "no index leads with tenant_id: every policy check scans the table",
                    "index=True on the tenant column (TenantTable has it), or an index "
                    "(tenant_id, ...) for the table's access paths",
                )
            )
    for row in await write_client.fetch(FK_WITHOUT_TENANT, tenant_tables):
        problems.append(
            Problem(
                "fk_without_tenant_id",
                row["table"],
                f"foreign key {row['name']} does not include tenant_id: its check ignores "
                "RLS, so a row could point at another tenant's row, and the check's lock "
                "reveals that the row exists (Citus also refuses such keys)",
                "replace it with (tenant_id, x_id) -> x (tenant_id, id), backed by a unique "
                "(tenant_id, id) on the referenced table",
            )
        )
    for row in await write_client.fetch(UNIQUE_WITHOUT_TENANT, tenant_tables):
        problems.append(
            Problem(
                "unique_without_tenant_id",
                row["table"],
                f"unique index {row['name']} does not include tenant_id: one tenant's value "
                "blocks another's, and the error reveals that the value exists elsewhere",
                "make it unique per tenant: Unique(['tenant_id', ...])",
            )
        )
    return problems


async def read_role_problems() -> list[Problem]:
    role = get_settings().authenticator_role
    rows = await write_client.fetch(READ_ROLE, role)
    if not rows:
        return [
            Problem(
                "read_role_missing",
                None,
                f"role {role} does not exist",
                "piccolo migrations forwards all (the rls app creates it)",
            )
        ]
    row = rows[0]
    problems = []
    checks = [
        (
            row["rolsuper"],
            "read_role_superuser",
            "is a superuser: RLS does not apply to it",
            f"ALTER ROLE {role} NOSUPERUSER",
        ),
        (
            row["rolbypassrls"],
            "read_role_bypassrls",
            "has BYPASSRLS: every policy is skipped",
            f"ALTER ROLE {role} NOBYPASSRLS",
        ),
        (
            row["owned"] > 0,
            "read_role_owns_objects",
            f"owns {row['owned']} object(s): owners skip RLS unless it is forced",
            f"REASSIGN OWNED BY {role} TO {get_settings().admin_role}",
        ),
        (
            bool(row["granted"]),
            "read_role_has_grants",
            f"holds direct grants on {', '.join(row['granted'])}: a query outside a request "
            "transaction would see data",
            f"REVOKE ALL ON <table> FROM {role}",
        ),
    ]
    for failed, code, message, fix in checks:
        if failed:
            problems.append(Problem(code, None, f"the read login role {role} {message}", fix))
    return problems


async def object_problems() -> list[Problem]:
    s = get_settings()
    problems = [
        Problem(
            "view_without_security_invoker",
            row["name"],
            "view runs with its owner's rights: it bypasses the RLS of the tables it reads",
            f"ALTER VIEW {row['name']} SET (security_invoker = true)",
        )
        for row in await write_client.fetch(VIEWS_WITHOUT_INVOKER)
    ]
    for row in await write_client.fetch(DEFINER_FUNCTIONS, s.authenticated_role, s.anonymous_role):
        problems.append(
            Problem(
                "security_definer_executable",
                None,
                f"SECURITY DEFINER function {row['name']} is executable by request roles: it "
                "runs as its owner and can read past RLS",
                f"REVOKE EXECUTE ON FUNCTION {row['name']} FROM PUBLIC, "
                f"{s.authenticated_role}, {s.anonymous_role} (or make it SECURITY INVOKER)",
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
                    f"ALTER FUNCTION {row['name']} SET search_path = pg_catalog, public, pg_temp",
                )
            )
    roles = [s.authenticator_role, s.authenticated_role, s.anonymous_role]
    for row in await write_client.fetch(TEMP_PRIVILEGE, roles):
        problems.append(
            Problem(
                "request_role_temp_tables",
                None,
                f"{row['rolname']} may create temporary tables: one outlives the request on a "
                "pooled connection and can shadow a real table for the next tenant",
                "REVOKE TEMPORARY ON DATABASE <database> FROM PUBLIC",
            )
        )
    return problems


async def policy_form_problems() -> list[Problem]:
    problems = []
    for row in await write_client.fetch(POLICY_EXPRESSIONS):
        expression = row["expression"]
        if "SELECT" not in expression.upper():
            continue
        correlated = "tenant_id()" in expression and "= " in expression
        message = (
            f"policy {row['name']} wraps the comparison in a subquery "
            "((select auth.tenant_id() = tenant_id), Drizzle's authUid form): a full scan "
            "with a subquery per row, measured 1,900-50,000x slower than a plain filter"
            if correlated
            else f"policy {row['name']} contains a subquery: Citus refuses it on "
            "distributed tables, and the planner cannot use an index through it"
        )
        problems.append(
            Problem(
                "policy_subquery",
                row["table"],
                message,
                "write it as tenant_id = auth.tenant_id() (a STABLE sql function, inlined)",
            )
        )
    for row in await write_client.fetch(POLICY_FUNCTIONS):
        if row["volatility"] == "v":
            problems.append(
                Problem(
                    "policy_volatile_function",
                    row["table"],
                    f"policy {row['name']} calls VOLATILE {row['function']}: it is evaluated "
                    "for every row and no index can be used",
                    "mark the function STABLE (if it is) or move the call out of the policy",
                )
            )
    for row in await write_client.fetch(POLICY_COLUMNS):
        problems.append(
            Problem(
                "policy_column_without_index",
                row["table"],
                f"policy {row['name']} filters on {row['column']}, which no index leads with",
                f"add an index leading with {row['column']}",
            )
        )
    return problems
