"""A second database (or a second server) for tests that break things on purpose."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from refresh.db.bootstrap import bootstrap, drop_database
from refresh.web.process import UVICORN_OPTIONS
from settings import get_settings
from tests.database import _with_user_and_db, piccolo, test_database

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ScratchDatabase:
    superuser_url: str
    name: str

    @property
    def env(self) -> dict[str, str]:
        s = get_settings()
        return {
            "WRITE_DATABASE_URL": _with_user_and_db(self.superuser_url, s.admin_role, self.name),
            "READ_DATABASE_URL": _with_user_and_db(
                self.superuser_url, s.authenticator_role, self.name
            ),
        }

    def piccolo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = piccolo(*args, env=self.env, check=False)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result


@contextmanager
def scratch_database(suffix: str, superuser_url: str | None = None) -> Iterator[ScratchDatabase]:
    url = superuser_url or test_database().superuser_url
    database = ScratchDatabase(url, f"{test_database().name}_{suffix}")
    bootstrap(url, database.name, get_settings())
    try:
        yield database
    finally:
        drop_database(url, database.name)


@contextmanager
def scratch_server() -> Iterator[tuple[Path, str]]:
    """An embedded server of our own, to stop and start: (data dir, superuser URL)."""
    from refresh.db.embedded import socket_url, start_server, stop_server

    data_dir = Path(tempfile.mkdtemp(prefix="refresh-fault-")) / "pg"
    url = socket_url(start_server(data_dir), "postgres", "postgres")
    try:
        yield data_dir, url
    finally:
        stop_server(data_dir)
        subprocess.run(["rm", "-rf", str(data_dir.parent)], check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn(
    env: dict[str, str], workers: int = 1, target: str = "app:app", factory: bool = False
) -> Iterator[str]:
    """The real app under a real uvicorn on a free loopback port: yields its base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="uvicorn-", suffix=".log", delete=False)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--timeout-keep-alive",
        "30",
        *UVICORN_OPTIONS,  # as `make run` serves it
    ]
    process = subprocess.Popen(
        command + (["--factory"] if factory else []),
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(Path(log.name).read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        output = Path(log.name).read_text()
        os.unlink(log.name)
        # Surfaced for the tests that assert "no 5xx/traceback in the log".
        uvicorn.last_log = output  # type: ignore[attr-defined]
