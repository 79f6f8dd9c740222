"""Generated SQL: identifiers quoted where they must be, role placeholders filled in, and
nothing else in a script touched."""

from __future__ import annotations

from piccolo.columns import UUID
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from refresh.db.sql import ident
from refresh.schema.migration_sql import render
from refresh.schema.sqlgen import state_sql
from refresh.schema.state import table_state
from refresh.tenancy.declarations import AUTHENTICATED, global_table, tenant_rls
from refresh.tenancy.tables import ReadClientTable, TenantTable, Timestamps
from tests.database import superuser_sql, test_database


def test_identifiers_are_bare_unless_they_must_be_quoted():
    assert ident("project") == "project"
    assert ident("order") == '"order"'
    assert ident("Mixed") == '"Mixed"'


def test_render_fills_role_placeholders_only():
    sql = "select '{}'::int[], '{a,b}'; grant select on t to {authenticated};"
    assert render(sql) == "select '{}'::int[], '{a,b}'; grant select on t to \"authenticated\";"


class Order(TenantTable, Table):
    """A tenant table named like an SQL keyword (bound to the read client, never queried)."""

    id = UUID(primary_key=True, default=UUID4())


class Plan(ReadClientTable, Timestamps, Table):
    id = UUID(primary_key=True, default=UUID4())
    rls = global_table("the same price list for everyone", grants={AUTHENTICATED: ("select",)})


class Vault(ReadClientTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    rls = global_table("system data that no request reads")


def test_rls_sql_for_a_table_named_like_a_keyword_runs():
    state = {"order": table_state(tenant_rls(), Order)}
    superuser_sql(
        test_database(),
        'create table "order" (id uuid primary key, tenant_id uuid '
        "not null, created_at timestamptz, updated_at timestamptz)",
    )
    try:
        superuser_sql(test_database(), render(state_sql({}, state)))
        superuser_sql(test_database(), render(state_sql(state, {})))  # and backwards
    finally:
        superuser_sql(test_database(), 'drop table "order"')


def test_a_global_table_has_rls_too_and_lets_through_what_it_grants():
    sql = state_sql({}, {"plan": table_state(Plan.rls, Plan)})
    assert "alter table plan enable row level security;" in sql
    assert "alter table plan force row level security;" in sql
    assert "create policy global_select on plan as permissive for select" in sql
    assert "using (true)" in sql and "insert" not in sql


def test_a_global_table_without_grants_is_denied_to_every_request_role():
    sql = state_sql({}, {"vault": table_state(Vault.rls, Vault)})
    assert "create policy" not in sql and "grant" not in sql
    assert "force row level security" in sql
