"""Importing the app, piccolo_conf or any module of the project does no I/O: it opens no
connection, starts no server and patches nothing (house rule; issue #13)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, socket, subprocess, sys, warnings

opened = []
real_connect = socket.socket.connect
def connect(self, address):
    opened.append(address)
    return real_connect(self, address)
socket.socket.connect = connect
started = []
real_popen = subprocess.Popen.__init__
def popen(self, *args, **kwargs):
    started.append(args[0] if args else kwargs.get("args"))
    return real_popen(self, *args, **kwargs)
subprocess.Popen.__init__ = popen
filters = list(warnings.filters)
argv = list(sys.argv)

import app, piccolo_conf
for package in ("refresh", "apps"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(module.name)

assert opened == [], opened
assert started == [], started
assert warnings.filters == filters, "a module changed the warning filters"
assert sys.argv == argv, "a module rewrote sys.argv"
print("ok")
"""


def test_importing_everything_connects_to_nothing_and_starts_nothing() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="refresh-import-")) / "postgres"
    env = {
        **os.environ,
        "WRITE_DATABASE_URL": "",
        "READ_DATABASE_URL": "",
        "EMBEDDED_DATA_DIR": str(data_dir),  # where a server would start, if one did
        "ENVIRONMENT": "development",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert not data_dir.exists()  # the embedded server was not started
