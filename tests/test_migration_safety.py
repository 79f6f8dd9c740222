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
