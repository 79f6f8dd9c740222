"""Relations RLS cannot guard that a request role can still reach.

The per-table checks read declared tables, stray_table_problems the other tables of schema
public, and object_problems views: none of them reads

- a materialized view: it has no RLS and no security_invoker, its rows were computed by
  its owner, so whoever may select from it reads every tenant's rows;
- a relation outside schema public: no table class can declare it, so nothing says who
  may see its rows (a `reporting.x as select ... from task` copies every tenant's);
- a sequence: its values are drawn by every tenant alike, so one tenant's next id (or
  `last_value`) counts the rows every other tenant made.

Each is reported while a request role (or the authenticator, the read pool's login)
holds any privilege on it (directly, through PUBLIC or a role it inherits); the fix
revokes everything from PUBLIC, the request roles and the roles it is inherited through,
which is what a migration adding such an object should have left. It runs as the admin
role where the admin role owns the object, as a migration leaves it, else as a superuser
(a revoke by anyone else revokes nothing).

No sequence is excepted: the project grants none to a request role (its tenant tables
have UUID keys; the serial keys of Piccolo's admin tables are the admin role's), so
every grant found was made by hand or by a hand-written migration."""

from __future__ import annotations

from refresh.db.clients import write_client
from refresh.db.sql import ident, quote_ident
from refresh.rls.check.problems import ADMIN_OWNS, Problem, owner_sql
from settings import get_settings

#: Schemas of Citus and its columnar access method: their relations are the extension's
#: (and are extension members, excluded below anyway); no application object goes there.
#: `auth` is deliberately not listed: the project keeps functions there, never relations,
#: so one a request role can reach is as much a leak there as anywhere.
EXTENSION_SCHEMAS = ("citus", "citus_internal", "columnar", "columnar_internal")

EXPOSED = f"""
-- the roles that exist (a missing read role is a problem of its own: read_role_problems)
with existing as (select rolname::text as role from pg_roles where rolname = any($1::text[]))
select n.nspname as schema, c.relname as name, c.relkind::text as kind,
       array(select e.role from existing e
              where case when c.relkind = 'S'
                         then has_sequence_privilege(e.role, c.oid, 'USAGE, SELECT, UPDATE')
                         -- column grants too: `grant select (col)` reads as much
                         else has_any_column_privilege(e.role, c.oid,
                                                       'SELECT, INSERT, UPDATE, REFERENCES')
                              or has_table_privilege(e.role, c.oid, 'DELETE, TRUNCATE, TRIGGER')
                    end) as roles,
       -- who holds the grant it reaches them through: PUBLIC, a request role, or a
       -- role they inherit (the fix must revoke it there), on the relation or a column
       array(select distinct case when a.grantee = 0 then 'public'
                                  else quote_ident(g.rolname) end
               from (select e.grantee from aclexplode(c.relacl) e
                     union
                     select e.grantee from pg_attribute att, aclexplode(att.attacl) e
                      where att.attrelid = c.oid) a
               left join pg_roles g on g.oid = a.grantee
              where a.grantee = 0
                 or exists (select from existing e
                             where pg_has_role(e.role, a.grantee, 'USAGE'))) as grantees,
       {ADMIN_OWNS.format("c.relowner")} as owned
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
   and n.nspname <> all($2::text[])
   -- tables and views of public have their own checks; matviews, sequences and
   -- foreign tables none
   and (n.nspname <> 'public' or c.relkind in ('m', 'S', 'f'))
   -- an extension's own relations are the extension's to keep
   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                   and d.objid = c.oid and d.deptype = 'e')
 order by n.nspname, c.relname
"""

KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
}


def qualified(schema: str, name: str) -> str:
    """The name the report uses, and the fix's SQL: bare in public, as the other checks."""
    return ident(name) if schema == "public" else f"{ident(schema)}.{ident(name)}"


def exposure_problem(
    schema: str, name: str, kind: str, roles: list[str], grantees: list[str], owned: bool
) -> Problem:
    s = get_settings()
    request_roles = [quote_ident(s.authenticated_role), quote_ident(s.anonymous_role)]
    holders = ", ".join(dict.fromkeys(["public", *request_roles, *sorted(grantees)]))
    where = qualified(schema, name)
    who = ", ".join(roles)
    if kind == "S":
        code = "sequence_readable"
        message = (
            f"sequence is usable by {who}: its values are shared by every tenant, so a "
            "tenant's next value (or last_value) counts the rows other tenants made "
            "(the guide: UUID primary keys, never serials)"
        )
        fix = f"revoke all on sequence {where} from {holders};"
    elif kind == "m":
        code = "materialized_view_readable"
        message = (
            f"materialized view is readable by {who}: it has no row level security and no "
            "security_invoker, every tenant reads every tenant's rows in it"
        )
        fix = f"revoke all on {where} from {holders};"
    else:
        code = "relation_outside_public"
        message = (
            f"{KINDS[kind]} outside schema public is reachable by {who}: no table class "
            "can declare it, so nothing decides which tenant's rows it shows"
        )
        fix = f"revoke all on {where} from {holders};"
    return Problem(code, where, message, owner_sql(fix, owned))


async def exposure_problems() -> list[Problem]:
    s = get_settings()
    # the authenticator too: the read pool's login, before a request switches its role
    roles = [s.authenticated_role, s.anonymous_role, s.authenticator_role]
    rows = await write_client.fetch(EXPOSED, roles, list(EXTENSION_SCHEMAS))
    return [
        exposure_problem(
            row["schema"],
            row["name"],
            row["kind"],
            list(row["roles"]),
            list(row["grantees"]),
            row["owned"],
        )
        for row in rows
        if row["roles"]
    ]
