"""The guide's "A third login, on the workers only" (docs/database-guide.md, Scaling out with
Citus), followed on the suite's cluster (TEST_CITUS=1, `make test-citus`).

The guide's pg_hba.conf lines and its SQL are read from the guide itself, so the test
cannot drift from what a reader is told. The cluster listens on unix sockets only, so each
`host DB ROLE ADDRESS METHOD` line is applied as `local DB ROLE METHOD` (the guide's
database `shop` being the suite's database); the cluster's own `local all all trust` stays
after them, for the superuser and the app's two logins. Everything is put back afterwards:
the rest of the suite runs on the same cluster.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg
import pytest

from tests.citus.cluster import CitusCluster
from tests.citus.node import HBA, Node, write_server_file
from tests.conftest import TenantFixture
from tests.database import test_database
from tests.guide_project import GUIDE
from tests.guide_runner import Block, parse_guide
from tests.request_sql import as_request

if TYPE_CHECKING:
    from tests.database import TestDatabase

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS"), reason="needs the suite on Citus (make test-citus)"
)

WORKERS_HBA = "# pg_hba.conf of each worker"
COORDINATOR_HBA = "# pg_hba.conf of the coordinator"


def guide_blocks() -> tuple[dict[str, list[str]], str]:
    """The guide's pg_hba.conf lines (by the comment that heads them) and its SQL."""
    [section] = [s for s in parse_guide(GUIDE) if s.slug == "scaling-out-with-citus"]
    [hba] = [b for b in section.blocks if b.lang == "text" and WORKERS_HBA in b.code]
    [sql] = [b for b in section.blocks if b.lang == "sql" and "pg_dist_authinfo" in b.code]
    return hba_lines(hba), sql.code


def hba_lines(block: Block) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    heading = ""
    for line in block.code.splitlines():
        if line.startswith("# pg_hba.conf"):
            heading = line.split(" (")[0]
            lines[heading] = []
        elif line.strip() and not line.startswith("#"):
            lines[heading].append(line)
    return lines


def on_unix_sockets(line: str, database: str) -> str:
    kind, db, role, _address, method = line.split()
    assert kind == "host", f"the guide's line is not a host line: {line}"
    return f"local {database if db == 'shop' else db} {role} {method}\n"


def write_hba(node: Node, text: str) -> None:
    write_server_file(node, "pg_hba.conf", text)


def reload_all(cluster: CitusCluster) -> None:
    for node in cluster.nodes:
        cluster.psql(cluster.url(node), "select pg_reload_conf();")


async def login_error(url: str, *, refused: bool = True) -> str | None:
    """None if `url` logs in, else the server's reason. Tried until it is `refused` (or
    admitted) for up to 5 s: a reload reaches the server a moment after
    pg_reload_conf() returns."""
    reason = None
    for _ in range(50):
        try:
            connection = await asyncpg.connect(url)
        except (asyncpg.PostgresError, OSError) as exc:
            reason = str(exc)
        else:
            await connection.close()
            reason = None
        if (reason is not None) == refused:
            return reason
        await asyncio.sleep(0.1)
    return reason


async def members_of(tenant: TenantFixture) -> int:
    """A request's count of its members on a new coordinator session (so new connections
    to the workers, opened as `authenticated`)."""
    sql = f"select count(*) as n from member where tenant_id = '{tenant.id}'"
    return int((await as_request(tenant, sql))[0]["n"])


@pytest.fixture
async def guide_worker_login() -> AsyncIterator[tuple[CitusCluster, TestDatabase, str]]:
    database = test_database()
    cluster: CitusCluster = database.citus
    lines, sql = guide_blocks()
    database_url = cluster.url(cluster.coordinator, database.name)
    try:
        for node in cluster.workers:
            write_hba(
                node, "".join(on_unix_sockets(x, database.name) for x in lines[WORKERS_HBA]) + HBA
            )
        write_hba(
            cluster.coordinator,
            "".join(on_unix_sockets(x, database.name) for x in lines[COORDINATOR_HBA]) + HBA,
        )
        reload_all(cluster)
        cluster.psql(database_url, sql)
        yield cluster, database, database_url
    finally:
        for node in cluster.nodes:
            write_hba(node, HBA)
        reload_all(cluster)
        # the password goes once the workers admit `authenticated` without it again:
        # the suite's next requests may open new connections to them at once
        for worker in cluster.workers:
            await login_error(cluster.url(worker, database.name, "authenticated"), refused=False)
        cluster.psql(
            database_url,
            "alter role authenticated password null;\n"
            "delete from pg_dist_authinfo where rolename = 'authenticated';",
        )


async def test_the_guides_worker_login_admits_citus_only(
    guide_worker_login: tuple[CitusCluster, TestDatabase, str], tenant_a: TenantFixture
) -> None:
    cluster, database, database_url = guide_worker_login
    worker = cluster.url(cluster.workers[0], database.name, "authenticated")
    coordinator = cluster.url(cluster.coordinator, database.name, "authenticated")

    # nobody logs in as `authenticated` without the password, nor on the coordinator at all
    assert "password" in (await login_error(worker) or "")
    assert "pg_hba.conf rejects" in (await login_error(coordinator) or "")
    other_database = cluster.url(cluster.workers[0], "postgres", "authenticated")
    assert "pg_hba.conf rejects" in (await login_error(other_database) or "")

    # Citus does, with the password of pg_dist_authinfo: the request reads tenant A's rows
    expected = await asyncpg.connect(database.write_url)
    try:
        count = await expected.fetchval(
            "select count(*) from member where tenant_id = $1", tenant_a.id
        )
    finally:
        await expected.close()
    assert count > 0
    assert await members_of(tenant_a) == count

    # and only with it: without the row, the same request cannot reach the workers
    cluster.psql(database_url, "delete from pg_dist_authinfo where rolename = 'authenticated';")
    with pytest.raises(asyncpg.PostgresError, match="password"):
        await members_of(tenant_a)
