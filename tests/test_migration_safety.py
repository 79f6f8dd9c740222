"""Every migration runs forwards, backwards and forwards again, on a database with data."""

from __future__ import annotations

import re
from pathlib import Path

from refresh.db.bootstrap import run_psql
from tests.database import _with_user_and_db
from tests.scratch import scratch_database

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def all_migrations() -> list[tuple[str, str]]:
    """(id, app) of every migration file, newest first."""
    found = []
    for path in MIGRATIONS.glob("*/*.py"):
        match = re.search(r'^ID = "(.+)"', path.read_text(), re.MULTILINE)
        if match:
            found.append((match[1], path.parent.name))
    return sorted(found, reverse=True)


def counts(db) -> dict[str, int]:
    url = _with_user_and_db(db.superuser_url, "refresh_admin", db.name)
    out = run_psql(
        url,
        "select 'tasks=' || count(*) from task; select 'tenants=' || count(*) "
        "from tenant; select 'comments=' || count(*) from comment;",
    )
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", out)}


def test_forwards_backwards_forwards_with_data():
    with scratch_database("mig") as db:
        db.piccolo("migrations", "forwards", "all")
        db.piccolo("tenants", "demo")
        seeded = counts(db)
        assert seeded["tasks"] > 0 and seeded["comments"] > 0

        # The newest migration (RLS of tasks) back and forth: the data is untouched.
        newest_app = all_migrations()[0][1]
        db.piccolo("migrations", "backwards", newest_app, "--auto_agree")
        db.piccolo("migrations", "forwards", "all")
        assert counts(db) == seeded
        assert db.piccolo("rls", "check").returncode == 0

        # Then every migration backwards, newest first, with the data in place until the
        # migration that created its table is undone; then all forwards again.
        migrations = all_migrations()
        for migration_id, app in migrations:
            back = db.piccolo("migrations", "backwards", app, "--auto_agree")
            assert f"{migration_id} [backwards]... ok!" in back.stdout, back.stdout
        forwards = db.piccolo("migrations", "forwards", "all")
        assert forwards.stdout.count("[forwards]... ok!") == len(migrations)
        db.piccolo("tenants", "demo")
        assert counts(db) == seeded
        check = db.piccolo("rls", "check", check=False)
        assert check.returncode == 0, check.stdout


def test_operator_names_move_beside_their_entries_when_operator_action_is_resharded():
    """rls_2026_12_03t10_02_38 gives operator_action its entry's tenant: names recorded
    before it keep their entries and get their tenant (nil where the entry is gone)."""
    sharded = "2026-12-03T10:02:38:372288"
    tenant, entry, orphan = (
        "1a1a1a1a-0000-4000-8000-000000000001",
        "2b2b2b2b-0000-4000-8000-000000000002",
        "3c3c3c3c-0000-4000-8000-000000000003",
    )
    with scratch_database("opact") as db:
        db.piccolo("migrations", "forwards", "all")
        db.piccolo("migrations", "backwards", "rls", sharded, "--auto_agree")
        url = _with_user_and_db(db.superuser_url, "refresh_admin", db.name)
        run_psql(
            url,
            "insert into audit_log (id, actor, via, tenant_id, table_name, row_id, action,"
            f" changes) values ('{entry}', 'operator', 'operator', '{tenant}', 'task', 'x',"
            " 'update', '{}');"
            f" insert into operator_action (audit_id, operator) values ('{entry}', 'operator:o1'),"
            f" ('{orphan}', 'operator:o2');",
        )
        db.piccolo("migrations", "forwards", "all")
        out = run_psql(
            url,
            "select id || '=' || tenant_id || '=' || operator from operator_action order by id;"
            " select 'side=' || (to_regclass('operator_action_previous') is null);",
        )
        assert f"{entry}={tenant}=operator:o1" in out
        assert f"{orphan}=00000000-0000-0000-0000-000000000000=operator:o2" in out
        assert "side=t" in out
        assert db.piccolo("rls", "check", check=False).returncode == 0
