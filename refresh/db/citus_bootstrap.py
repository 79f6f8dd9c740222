"""`piccolo rls bootstrap ... --workers ...`: the superuser step on a Citus cluster.

On one server the step is the admin role and the database (refresh/db/bootstrap.py). A
Citus cluster needs them on every node, the `citus` extension in every copy of the
database, the workers registered in the coordinator's copy, and the owner recorded as a
distributed role: without that, the admin role's first migration that creates a schema
and a function in it makes Citus re-create the role over the admin's own connection
("permission denied to alter role ... SUPERUSER attribute"). Every statement is
idempotent, so the step can run again after adding a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from refresh.db.bootstrap import bootstrap_sql, run_psql
from refresh.db.sql import ident, quote_literal
from settings import Settings

ROLE_ATTRIBUTES = "SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS".split()


@dataclass(frozen=True)
class NodeAddress:
    """Where the coordinator reaches a node: a host name, or a unix socket directory."""

    host: str
    port: int


def node_address(url: str) -> NodeAddress:
    """The host and port of a libpq URL (`postgresql://u@host:5432/db`, or
    `postgresql://u@/db?host=/socket/dir&port=9701`)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    if not host:
        raise ValueError(f"no host in {url!r}: the coordinator must know where the node is")
    port = parts.port or int((query.get("port") or ["5432"])[0])
    return NodeAddress(host, port)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def copy_role_sql(role: str, attributes: str) -> str:
    """Create `role` where missing with the coordinator's attributes: Citus later applies
    the coordinator's attributes on the workers (ALTER ROLE), so they must match."""
    return (
        f"select format('create role %I {attributes}', {quote_literal(role)})\n"
        f" where not exists (select from pg_roles where rolname = {quote_literal(role)}) \\gexec\n"
    )


def admin_attributes(coordinator_url: str, role: str) -> str:
    row = run_psql(
        coordinator_url,
        "\\pset tuples_only on\n\\pset format unaligned\n"
        "select concat_ws('|', rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,"
        f" rolreplication, rolbypassrls) from pg_roles where rolname = {quote_literal(role)};\n",
    ).strip()
    values = row.split("|")
    return " ".join(
        ("" if value == "t" else "no") + flag.lower()
        for flag, value in zip(ROLE_ATTRIBUTES, values, strict=True)
    )


def register_nodes_sql(coordinator: NodeAddress, workers: list[NodeAddress]) -> str:
    lines = [
        f"select citus_set_coordinator_host({quote_literal(coordinator.host)}, {coordinator.port});"
    ]
    for worker in workers:
        # citus_add_node returns the existing node's id when it is registered already
        lines.append(f"select citus_add_node({quote_literal(worker.host)}, {worker.port});")
    return "\n".join(lines) + "\n"


def bootstrap_citus(
    coordinator_url: str, worker_urls: list[str], database: str, settings: Settings
) -> None:
    """The admin role and `database` on the coordinator (as on one server), then on every
    worker with the same attributes; the extension in every copy; the workers registered;
    the owner recorded."""
    admin = settings.admin_role
    for name in (database, admin):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    coordinator = node_address(coordinator_url)
    workers = [node_address(url) for url in worker_urls]
    run_psql(coordinator_url, bootstrap_sql(database, settings))
    attributes = admin_attributes(coordinator_url, admin)
    create_database = (
        f"select format('create database %I owner %I', {quote_literal(database)},"
        f" {quote_literal(admin)})\n"
        f" where not exists (select from pg_database where datname = {quote_literal(database)})"
        " \\gexec\n"
    )
    # Workers first: registering a worker makes the coordinator connect to its database.
    for url in worker_urls:
        run_psql(url, copy_role_sql(admin, attributes) + create_database)
        run_psql(with_database(url, database), "create extension if not exists citus;\n")
    run_psql(
        with_database(coordinator_url, database),
        "create extension if not exists citus;\n"
        + register_nodes_sql(coordinator, workers)
        + f"alter database {ident(database)} owner to {ident(admin)};\n",
    )
