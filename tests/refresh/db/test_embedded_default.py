"""With no database URL, every `piccolo` command shares one embedded server in EMBEDDED_DATA_DIR."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from refresh.db.embedded import stop_server
from tests.database import piccolo


def postmaster_pid(data_dir: Path) -> str:
    return (data_dir / "postmaster.pid").read_text().splitlines()[0]


def test_commands_start_then_reuse_the_embedded_server():
    data_dir = Path(tempfile.mkdtemp(prefix="refresh-emb-")) / "postgres"
    env = {"WRITE_DATABASE_URL": "", "READ_DATABASE_URL": "", "EMBEDDED_DATA_DIR": str(data_dir)}
    saved = {k: os.environ.pop(k) for k in ("WRITE_DATABASE_URL", "READ_DATABASE_URL")}
    try:
        first = piccolo("migrations", "forwards", "all", env=env, check=False)
        assert first.returncode == 0, first.stderr
        pid = postmaster_pid(data_dir)

        tenant = piccolo("tenants", "create", "emb", env=env)
        assert postmaster_pid(data_dir) == pid  # reused, not restarted
        assert len(tenant.stdout.strip()) == 36

        again = piccolo("migrations", "forwards", "all", env=env)
        assert "No migrations need to be run" in again.stdout
        assert postmaster_pid(data_dir) == pid
    finally:
        os.environ.update(saved)
        assert stop_server(data_dir)
        assert not (data_dir / "postmaster.pid").exists()
        shutil.rmtree(data_dir.parent, ignore_errors=True)
