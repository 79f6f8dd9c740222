"""The warm CLI (tests/warm_cli.py) answers as the cold console script does: same output,
same exit status, the call's own environment and working directory; and the
project is never imported before the fork."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.database import piccolo
from tests.scratch import scratch_database
from tests.warm_cli import warm_cli

ROOT = Path(__file__).resolve().parents[1]


def cold(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "piccolo"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def same(warm: subprocess.CompletedProcess[str], cold: subprocess.CompletedProcess[str]) -> None:
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )


def test_output_and_status_are_the_cold_clis() -> None:
    for args in (("rls", "check", "--json"), ("rls", "nosuchcommand"), ("tenants", "create")):
        same(piccolo(*args, check=False), cold(*args))
    renamed = {"AUTHENTICATOR_ROLE": "refresh_reader_renamed"}
    warm = piccolo("rls", "check", "--json", check=False, env=renamed)
    assert warm.returncode == 1 and "refresh_reader_renamed" in warm.stdout
    same(warm, cold("rls", "check", "--json", env=renamed))


def test_the_working_directory_and_a_warnings_origin_are_the_calls(tmp_path: Path) -> None:
    """Outside the project no piccolo_conf is found; on a database not migrated, Piccolo
    warns from the console script's own line."""
    env = {**os.environ, "PICCOLO_CONF": "no_such_conf_module"}
    warm = warm_cli.run(["--help"], cwd=tmp_path, env=env)
    script = str(Path(sys.executable).parent / "piccolo")
    same(
        warm,
        subprocess.run(
            [script, "--help"],
            cwd=tmp_path,
            env=env,
            input="typed\n",
            capture_output=True,
            text=True,
            timeout=120,
        ),
    )
    assert "Can't import the APP_REGISTRY" in warm.stdout
    with scratch_database("warm") as db:
        warm = db.piccolo("rls", "status", check=False)
        same(warm, cold("rls", "status", env=db.env))
    assert f"{script}:8: Warning" in warm.stderr and "haven't been run" in warm.stderr


def test_the_calls_pythonpath_is_searched(tmp_path: Path) -> None:
    """A scratch project's piccolo_conf is found through PYTHONPATH, which a running
    interpreter no longer reads: the child sets its own."""
    (tmp_path / "warm_probe_conf.py").write_text(
        "from piccolo.conf.apps import AppRegistry\n"
        "APP_REGISTRY = AppRegistry(apps=['piccolo.apps.user.piccolo_app'])\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PICCOLO_CONF": "warm_probe_conf"}
    warm = piccolo("user", "nosuchcommand", check=False, env=env)
    same(warm, cold("user", "nosuchcommand", env=env))
    assert "Can't import the APP_REGISTRY" not in warm.stdout, warm.stdout
    assert "change_password" in warm.stdout, warm.stdout


def test_nothing_of_the_project_is_imported_before_the_fork() -> None:
    """Its modules read the settings on import: each call must import them afresh."""
    probe = (
        "import importlib, sys; from tests.warm_cli import PRELOADED\n"
        "for name in PRELOADED: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    )
    project = ["app", "apps", "piccolo_conf", "refresh", "settings"]
    out = subprocess.run(
        [sys.executable, "-c", probe, *project], capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
