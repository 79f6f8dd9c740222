"""One node of the test Citus cluster: its data dir and the settings every start writes.

(tests/citus/cluster.py starts and stops the nodes.)
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.citus.processes import server_user

# Database and role names are interpolated into SQL: accept plain identifiers only.
PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
CONFIG_FILE = "citus_cluster.conf"

# Every node, every start (rewritten, so a reused data dir gets the current settings).
SETTINGS = {
    "listen_addresses": "''",  # unix sockets only
    "unix_socket_permissions": "0700",
    "shared_preload_libraries": "'citus'",
    # Citus opens up to citus.max_adaptive_executor_pool_size (16) connections per session
    # per worker for multi-shard queries.
    "max_connections": "200",
    # Multi-shard writes commit with two-phase commit on the workers.
    "max_prepared_transactions": "200",
    # One Citus maintenance daemon (a background worker) per database with the extension:
    # the default 8 runs out after a handful of test databases.
    "max_worker_processes": "64",
    # Disposable test data: durability buys nothing and costs seconds.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
}
HBA = """\
# Test cluster only: any role, any database, local sockets, no password.
local all all trust
"""


@dataclass(frozen=True)
class Node:
    name: str
    port: int
    data_dir: Path

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()


def configure(node: Node, socket_dir: Path) -> None:
    """Write the node's settings and pg_hba.conf (every start: a reused data dir gets
    the current ones)."""
    settings = {
        **SETTINGS,
        "port": str(node.port),
        "unix_socket_directories": f"'{socket_dir}'",
        # how a node reaches itself (shard splits, isolate_tenant_to_new_shard): the
        # socket dir, as there is no TCP listener (default: localhost)
        "citus.local_hostname": f"'{socket_dir}'",
    }
    conf = node.data_dir / "postgresql.conf"
    include = f"include '{CONFIG_FILE}'\n"
    if include not in conf.read_text():
        with conf.open("a") as f:
            f.write(include)
    write_server_file(
        node, CONFIG_FILE, "".join(f"{name} = {value}\n" for name, value in settings.items())
    )
    write_server_file(node, "pg_hba.conf", HBA)


def write_server_file(node: Node, name: str, text: str) -> None:
    """A file of the node's data dir, owned by the server's user like the rest (the suite
    runs as root, the server does not)."""
    path = node.data_dir / name
    path.write_text(text)
    user = server_user()
    if user is not None:
        shutil.chown(path, user, user)


def check_identifier(name: str) -> None:
    if not PLAIN_IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
