"""A real Citus cluster for tests: one coordinator and N workers on this machine.

Each node is its own PostgreSQL server (data dir `<dir>/<node>`), all listening only on
unix sockets in one private directory `<dir>/sockets` with distinct ports (9700 for the
coordinator, 9701... for the workers). Citus addresses a node by (host, port) and passes
the host to libpq, which reads a leading "/" as a socket directory: so the socket
directory is the node name in pg_dist_node, and no TCP port is ever opened.

    with CitusCluster(tmp_path / "citus") as cluster:
        url = cluster.create_database("app", owner_role="app_admin")

Command line (the servers outlive it, like the project's embedded server):

    python -m tests.citus.cluster start|stop|status [--dir DIR] [--fresh]

Authentication is `trust` on the local sockets, reachable only by the server's OS user and
root (the socket dir is 0700). See tests/citus/README.md for what production must change.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from tests.citus.build import REPO_ROOT, ensure_citus, library_path
from tests.citus.node import Node, check_identifier, configure
from tests.citus.processes import (
    as_server_user,
    give_to_server_user,
    make_traversable,
    postmaster_pids,
    stop_postmasters,
)

DEFAULT_DIR = REPO_ROOT / ".data" / "citus-cluster"
BASE_PORT = 9700
SUPERUSER = "postgres"
# The kernel's limit for a socket path (sun_path, 108 bytes with its NUL).
MAX_SOCKET_PATH = 107
DEFAULT_DIR = REPO_ROOT / ".data" / "citus-cluster"
BASE_PORT = 9700
SUPERUSER = "postgres"
# The kernel's limit for a socket path (sun_path, 108 bytes with its NUL).
MAX_SOCKET_PATH = 107
# Database and role names are interpolated into SQL: accept plain identifiers only.
PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class CitusCluster:
    """A coordinator and `workers` workers under `base_dir` (one cluster per directory)."""

    def __init__(
        self,
        base_dir: Path = DEFAULT_DIR,
        *,
        workers: int = 2,
        base_port: int = BASE_PORT,
        install: Path | None = None,
    ) -> None:
        self.base_dir = base_dir.resolve()
        self.socket_dir = self.base_dir / "sockets"
        self.coordinator = Node("coordinator", base_port, self.base_dir / "coordinator")
        self.workers = [
            Node(f"worker{i}", base_port + i, self.base_dir / f"worker{i}")
            for i in range(1, workers + 1)
        ]
        self._install = install

    # -- addresses -------------------------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        return [self.coordinator, *self.workers]

    @property
    def install(self) -> Path:
        """The PostgreSQL + Citus install (built, or found in the cache, on first use)."""
        if self._install is None:
            self._install = ensure_citus()
        return self._install

    def url(self, node: Node, database: str = "postgres", user: str = SUPERUSER) -> str:
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{user}@/{database}?host={host}&port={node.port}"

    @property
    def coordinator_url(self) -> str:
        return self.url(self.coordinator)

    @property
    def worker_urls(self) -> list[str]:
        return [self.url(node) for node in self.workers]

    # -- life cycle ------------------------------------------------------------------------

    def start(self, *, fresh: bool = True) -> CitusCluster:
        """Start every node; `fresh` (the default) wipes the data dirs and runs initdb first.

        Servers left running on these data dirs by a crashed run are stopped first, and
        their stale lock files removed, so they never block this start.
        """
        install = self.install
        socket_path = self.socket_dir / f".s.PGSQL.{max(n.port for n in self.nodes)}"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise ValueError(
                f"socket path too long for the kernel, use a shorter dir: {socket_path}"
            )
        self._stop_all()
        if fresh or not all(node.initialized for node in self.nodes):
            for path in (self.socket_dir, *(node.data_dir for node in self.nodes)):
                shutil.rmtree(path, ignore_errors=True)
        for path in self.socket_dir.glob(".s.PGSQL.*"):
            path.unlink()  # no server runs now: these are a killed one's leftovers
        for node in self.nodes:
            (node.data_dir / "postmaster.pid").unlink(missing_ok=True)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        give_to_server_user(self.socket_dir, *(node.data_dir for node in self.nodes))
        self.socket_dir.chmod(0o700)
        make_traversable(install)
        try:
            self._parallel([self._initdb(node) for node in self.nodes if not node.initialized])
            for node in self.nodes:
                configure(node, self.socket_dir)
            self._parallel([self._pg_ctl_start(node) for node in self.nodes])
        except BaseException:
            self._stop_all()
            raise
        return self

    def stop(self) -> bool:
        """Fast shutdown of every node; returns once no server process is left."""
        return self._stop_all()

    def running(self) -> dict[str, bool]:
        return {node.name: bool(postmaster_pids(node.data_dir)) for node in self.nodes}

    def __enter__(self) -> CitusCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _stop_all(self) -> bool:
        # Also any other node dir here (a previous run with more workers).
        data_dirs = {node.data_dir for node in self.nodes}
        if self.base_dir.is_dir():
            data_dirs |= {p.parent for p in self.base_dir.glob("*/PG_VERSION")}
        return stop_postmasters(*sorted(data_dirs))

    def _initdb(self, node: Node) -> list[str]:
        initdb = str(self.install / "bin" / "initdb")
        # C locale: the same collation everywhere, whatever locales the machine has.
        options = ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        return [initdb, "-D", str(node.data_dir), "-U", SUPERUSER, *options]

    def _pg_ctl_start(self, node: Node) -> list[str]:
        pg_ctl = str(self.install / "bin" / "pg_ctl")
        log = str(node.data_dir / "server.log")
        return [pg_ctl, "-D", str(node.data_dir), "-l", log, "-w", "-t", "60", "-s", "start"]

    def _server_env(self) -> dict[str, str]:
        return {**os.environ, "LD_LIBRARY_PATH": library_path(self.install)}

    def _parallel(self, commands: list[list[str]]) -> None:
        """Run initdb or pg_ctl for every node at once, as the server's OS user."""
        procs = [
            subprocess.Popen(
                command,
                cwd=self.base_dir,  # the server user may not be allowed into ours
                env=self._server_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                **as_server_user(),
            )
            for command in commands
        ]
        failures = []
        for command, proc in zip(commands, procs, strict=True):
            output, _ = proc.communicate()
            if proc.returncode != 0:
                failures.append(f"{' '.join(command)}:\n{output}{self._log_tail(command)}")
        if failures:
            raise RuntimeError("\n".join(failures))

    @staticmethod
    def _log_tail(command: list[str]) -> str:
        if "-l" not in command:
            return ""
        log = Path(command[command.index("-l") + 1])
        return "".join(log.read_text().splitlines(keepends=True)[-20:]) if log.is_file() else ""

    # -- SQL -------------------------------------------------------------------------------

    def psql(self, url: str, script: str, *, tuples_only: bool = False) -> str:
        """Run `script` with the install's psql, stopping at the first error."""
        args = [str(self.install / "bin" / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        if tuples_only:
            args += ["-A", "-t"]
        result = subprocess.run(
            [*args, "-d", url],
            input=script,
            capture_output=True,
            text=True,
            env=self._server_env(),
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def ensure_role(self, role: str, options: str = "login") -> None:
        """Create `role` on every node where it is missing.

        Roles are per server, and Citus does not copy one to a worker before its database
        exists there. A role already on the coordinator is copied with the same attributes:
        Citus later re-applies the coordinator's attributes on the workers (ALTER ROLE), so
        they must match.
        """
        check_identifier(role)
        row = self.psql(
            self.coordinator_url,
            "select rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,"
            f" rolreplication, rolbypassrls from pg_roles where rolname = '{role}'",
            tuples_only=True,
        ).strip()
        if row:
            flags = "SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS".split()
            values = row.split("|")
            options = " ".join(
                ("" if v == "t" else "NO") + f for f, v in zip(flags, values, strict=True)
            )
        for node in self.nodes:
            self.psql(
                self.url(node),
                f"select 'create role {role} {options}'"
                f" where not exists (select from pg_roles where rolname = '{role}') \\gexec",
            )

    def create_database(self, name: str, owner_role: str, *, role_options: str = "login") -> str:
        """Create database `name` owned by `owner_role` on every node, with the citus
        extension in each, and the workers registered in the coordinator's copy.
        Returns the coordinator's superuser URL of the new database."""
        check_identifier(name)
        self.ensure_role(owner_role, role_options)
        # Workers first: registering a worker makes the coordinator connect to its database.
        for node in [*self.workers, self.coordinator]:
            self.psql(
                self.url(node),
                f"select 'create database {name} owner {owner_role}'"
                f" where not exists (select from pg_database where datname = '{name}') \\gexec",
            )
            self.psql(self.url(node, name), "create extension if not exists citus;")
        host = str(self.socket_dir).replace("'", "''")
        self.psql(
            self.url(self.coordinator, name),
            f"select citus_set_coordinator_host('{host}', {self.coordinator.port});\n"
            + "".join(f"select citus_add_node('{host}', {w.port});\n" for w in self.workers)
            # The owner already exists on the workers, so Citus has not recorded it as a
            # distributed object of this database (pg_dist_object). Then the owner's first
            # transaction that creates an object and a dependent one (a schema and a function
            # in it) makes Citus re-create the role over the owner's own connection:
            # "permission denied to alter role ... SUPERUSER attribute". A superuser's
            # ALTER DATABASE OWNER records the owner (and roles it is a member of) up front.
            + f"alter database {name} owner to {owner_role};\n",
        )
        return self.url(self.coordinator, name)

    def drop_database(self, name: str) -> None:
        """Drop `name` on every node, disconnecting its sessions (coordinator first: its
        sessions hold connections to the workers' copies)."""
        check_identifier(name)
        for node in self.nodes:
            self.psql(self.url(node), f"drop database if exists {name} with (force);")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.citus.cluster", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="cluster directory")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="start: wipe the data first")
    args = parser.parse_args(argv)
    cluster = CitusCluster(args.dir, workers=args.workers)
    if args.command == "stop":
        print("stopped" if cluster.stop() else "not running")
        return 0
    if args.command == "start":
        if all(cluster.running().values()) and not args.fresh:
            print("already running", file=sys.stderr)
        else:
            started = time.monotonic()
            cluster.start(fresh=args.fresh)
            print(f"started in {time.monotonic() - started:.1f} s", file=sys.stderr)
    running = cluster.running()
    for node in cluster.nodes:
        state = "running" if running[node.name] else "stopped"
        print(f"{node.name:12} {state:8} {cluster.url(node)}")
    return 0 if all(running.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
