"""The guide's real-server recipe ("The embedded database, or URLs"), run as written on
the test server (PostgreSQL 15 in CI's second run): the only change is the server's
address, the passwords left out (the test server trusts its local clients) and a
database name of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.database import _with_user_and_db, test_database

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "database-guide.md"
URL = re.compile(r"postgresql://(\w+)(?::\.\.\.)?@db\.internal/(\w+)")


def recipe() -> str:
    text = GUIDE.read_text()
    start = text.index("export ENVIRONMENT=production\nexport JWT_SECRET=")
    return text[start : text.index("```", start)]


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def clean_env() -> dict[str, str]:
    """A shell as a reader's: the venv on PATH, none of the suite's settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "JWT_SECRET")}
    env.pop("WRITE_DATABASE_URL", None)
    env.pop("READ_DATABASE_URL", None)
    env.pop("PGBOUNCER", None)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return env


def test_the_recipe_works_as_written() -> None:
    server = test_database().superuser_url
    name = f"recipe_{uuid.uuid4().hex[:10]}"
    script = recipe().replace("--database refresh", f"--database {name}")
    script = URL.sub(
        lambda m: _with_user_and_db(server, m[1], name if m[2] == "refresh" else m[2]),
        script,
    )
    script = script.replace("postgresql://postgres@db.internal/postgres", server)
    assert "db.internal" not in script
    try:
        result = run(script, clean_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"database {name} are in place" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
    finally:
        from refresh.db.bootstrap import drop_database

        drop_database(server, name)


def test_bootstrap_without_a_database_name_refuses_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from refresh.rls.commands import bootstrap
    from settings import get_settings

    monkeypatch.setattr(get_settings(), "write_database_url", None)
    with pytest.raises(SystemExit) as refused:
        bootstrap(test_database().superuser_url)
    assert refused.value.code == (
        "say which database to create: piccolo rls bootstrap SUPERUSER_URL --database NAME "
        "(or set WRITE_DATABASE_URL first: its database is the one created)"
    )
