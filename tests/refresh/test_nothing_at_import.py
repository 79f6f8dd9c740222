"""Importing the app, piccolo_conf or any module of the project does no I/O: it opens no
connection, starts no server and patches nothing (house rule; issue #13)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The library modules the project adapts (refresh/compat/*.py, refresh/db/engines.py) or
# builds on, imported before the project: their attributes, and those of every class they
# hold (Select, Query, BaseUser, PostgresEngine, TableConfig, PiccoloCRUD, asyncpg's
# Pool, ...), must be the very same objects after it.
ADAPTED = (
    "asyncpg",
    "asyncpg.pool",
    "piccolo.apps.user.tables",
    "piccolo.columns",
    "piccolo.columns.combination",
    "piccolo.columns.readable",
    "piccolo.conf.apps",
    "piccolo.engine.postgres",
    "piccolo.query.base",
    "piccolo.query.methods.select",
    "piccolo.querystring",
    "piccolo.table",
    "piccolo_admin.endpoints",
    "piccolo_api.crud.endpoints",
    "piccolo_api.csrf.middleware",
    "piccolo_api.session_auth.tables",
    "starlette.applications",
    "starlette.middleware",
    "starlette.requests",
    "starlette.responses",
    "starlette.routing",
    "targ",
)

PROBE = """
import importlib, pkgutil, socket, subprocess, sys, types, warnings

def attributes(namespace):
    # Not patches: a submodule appears on its package when imported, and copy.copy()
    # caches a class's __slotnames__ on it (Piccolo copies columns into each table).
    return {
        k: v
        for k, v in namespace.items()
        if not isinstance(v, types.ModuleType) and k != "__slotnames__"
    }

def snapshot():
    taken = {}
    for name in ADAPTED:
        module = sys.modules[name]
        taken[name] = attributes(vars(module))
        for value in list(vars(module).values()):
            if isinstance(value, type):
                taken[f"{value.__module__}.{value.__qualname__}"] = attributes(vars(value))
    return taken

MISSING = object()
def changes(before, after):
    return sorted(
        f"{owner}.{key}"
        for owner, names in before.items()
        for key in names.keys() | after[owner].keys()
        if names.get(key, MISSING) is not after[owner].get(key, MISSING)
    )

for name in ADAPTED:
    importlib.import_module(name)
before = snapshot()

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
changed = changes(before, snapshot())
assert not changed, f"a module patched a library: {changed}"
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
    probe = f"ADAPTED = {ADAPTED!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert not data_dir.exists()  # the embedded server was not started
