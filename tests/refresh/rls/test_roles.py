"""Roles as DESIGN.md sets them, created idempotently by the rls migration."""

from __future__ import annotations

import os

from refresh.db.bootstrap import bootstrap, drop_database
from refresh.db.clients import write_client
from settings import get_settings
from tests.database import _with_user_and_db, piccolo, test_database


async def test_role_attributes():
    s = get_settings()
    rows = await write_client.fetch(
        "select rolname, rolcanlogin, rolsuper, rolbypassrls, rolinherit "
        "from pg_roles where rolname = any($1::text[])",
        [s.admin_role, s.authenticator_role, s.authenticated_role, s.anonymous_role],
    )
    roles = {r["rolname"]: r for r in rows}
    assert roles[s.admin_role]["rolbypassrls"] and roles[s.admin_role]["rolcanlogin"]
    authenticator = roles[s.authenticator_role]
    assert authenticator["rolcanlogin"] and not authenticator["rolinherit"]
    assert not authenticator["rolsuper"] and not authenticator["rolbypassrls"]
    for name in (s.authenticated_role, s.anonymous_role):
        assert not roles[name]["rolcanlogin"] and not roles[name]["rolbypassrls"]


async def test_authenticator_owns_nothing_and_holds_no_table_grants():
    s = get_settings()
    owned = await write_client.fetch(
        "select c.relname from pg_class c join pg_roles r on r.oid = c.relowner "
        "where r.rolname = $1",
        s.authenticator_role,
    )
    grants = await write_client.fetch(
        "select table_name from information_schema.role_table_grants where grantee = $1",
        s.authenticator_role,
    )
    assert owned == [] and grants == []


async def test_admin_owns_every_table():
    owners = await write_client.fetch(
        "select distinct tableowner from pg_tables where schemaname = 'public'"
    )
    assert owners == [{"tableowner": get_settings().admin_role}]


def test_migrating_a_second_database_with_existing_roles_works():
    """Roles are cluster-wide: a re-run finds them in place and must not fail."""
    name = test_database().name + "_second"
    bootstrap(test_database().superuser_url, name, get_settings())
    try:
        env = {
            "WRITE_DATABASE_URL": _with_user_and_db(
                test_database().superuser_url, "refresh_admin", name
            ),
            "READ_DATABASE_URL": os.environ["READ_DATABASE_URL"],
        }
        result = piccolo("migrations", "forwards", "all", env=env, check=False)
        assert result.returncode == 0, result.stderr
        assert "ok!" in result.stdout
    finally:
        drop_database(test_database().superuser_url, name)
