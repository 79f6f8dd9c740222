"""Generated SQL: identifiers quoted where they must be, role placeholders filled in, and
nothing else in a script touched."""

from __future__ import annotations

from refresh.db.sql import ident
from refresh.schema.migration_sql import render
from refresh.schema.sqlgen import state_sql
from refresh.schema.state import table_state
from refresh.tenancy.declarations import global_table, tenant_rls
from tests.database import superuser_sql, test_database


def test_identifiers_are_bare_unless_they_must_be_quoted():
    assert ident("project") == "project"
    assert ident("order") == '"order"'
    assert ident("Mixed") == '"Mixed"'


def test_render_fills_role_placeholders_only():
    sql = "select '{}'::int[], '{a,b}'; grant select on t to {authenticated};"
    assert render(sql) == "select '{}'::int[], '{a,b}'; grant select on t to \"authenticated\";"


def test_rls_sql_for_a_table_named_like_a_keyword_runs():
    columns = {"id", "tenant_id", "created_at", "updated_at"}
    state = {"order": table_state(tenant_rls(), columns)}
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


def test_a_global_table_gets_no_rls_statements():
    state = {"plan": table_state(global_table("the same price list for everyone"), {"id"})}
    assert state_sql({}, state) == ""
