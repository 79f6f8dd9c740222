"""Smoke test of the Citus test cluster: build (cached), start, distribute, route, stop."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from uuid import uuid4

import asyncpg

from tests.citus.cluster import CitusCluster
from tests.citus.fixtures import CitusDatabase, citus_cluster, citus_database, cluster_dir
from tests.citus.processes import postmaster_pids

__all__ = ["citus_cluster", "citus_database"]  # fixtures, imported for pytest

TENANT_A = uuid4()
TENANT_B = uuid4()


def test_every_node_runs_citus(citus_cluster: CitusCluster) -> None:
    assert all(citus_cluster.running().values())
    for node in citus_cluster.nodes:
        libraries = citus_cluster.psql(
            citus_cluster.url(node), "show shared_preload_libraries", tuples_only=True
        )
        assert libraries.strip() == "citus"


def test_database_is_a_cluster(citus_cluster: CitusCluster, citus_database: CitusDatabase) -> None:
    nodes = citus_cluster.psql(
        citus_database.url,
        "select nodeport, shouldhaveshards from pg_dist_node order by nodeport",
        tuples_only=True,
    )
    ports = [node.port for node in citus_cluster.nodes]
    assert nodes.split() == [f"{ports[0]}|f", f"{ports[1]}|t", f"{ports[2]}|t"]


def test_distributed_and_reference_tables(
    citus_cluster: CitusCluster, citus_database: CitusDatabase
) -> None:
    def sql(script: str) -> str:
        return citus_cluster.psql(citus_database.url, script, tuples_only=True).strip()

    sql(
        """
        create table t (tenant_id uuid, id uuid, primary key (tenant_id, id));
        select create_distributed_table('t', 'tenant_id', shard_count => 32);
        create table plans (code text primary key, seats int not null);
        select create_reference_table('plans');
        insert into plans values ('free', 3), ('team', 50);
        """
    )
    sql(
        f"insert into t select '{TENANT_A}', gen_random_uuid() from generate_series(1, 5);"
        f"insert into t select '{TENANT_B}', gen_random_uuid() from generate_series(1, 7);"
    )
    assert sql("select count(*) from t") == "12"
    assert sql(f"select count(*) from t where tenant_id = '{TENANT_B}'") == "7"
    assert sql("select count(*) from pg_dist_shard where logicalrelid = 't'::regclass") == "32"
    # Shards on both workers, none on the coordinator (only the reference table's copy).
    placements = sql(
        "select nodeport from citus_shards where table_name = 't'::regclass group by 1 order by 1"
    )
    assert placements.split() == [str(w.port) for w in citus_cluster.workers]
    assert sql("select string_agg(code, ',' order by code) from plans") == "free,team"
    # A join of a distributed and a reference table runs on the workers.
    assert sql(
        f"select sum(seats) from t join plans on code = 'team' where tenant_id = '{TENANT_A}'"
    )
    plan = sql(f"explain select * from t where tenant_id = '{TENANT_A}'")
    assert "Task Count: 1" in plan, plan


async def test_asyncpg_reaches_every_node(
    citus_cluster: CitusCluster, citus_database: CitusDatabase
) -> None:
    """The URLs (socket dir in ?host=) work with the project's driver, also as the owner."""
    for url in [citus_database.url, citus_database.owner_url, *citus_database.worker_urls]:
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("select current_database()") == citus_database.name
        finally:
            await connection.close()


def test_owner_creates_dependent_objects_in_one_transaction(
    citus_cluster: CitusCluster, citus_database: CitusDatabase
) -> None:
    """Like a migration run by the non-superuser owner: without the owner recorded as a
    distributed role, the function fails with "permission denied to alter role"."""
    citus_cluster.psql(
        citus_database.owner_url,
        """
        begin;
        create schema app;
        create function app.one() returns int language sql as 'select 1';
        create table app.t (tenant_id uuid primary key);
        select create_distributed_table('app.t', 'tenant_id');
        commit;
        """,
    )
    for url in citus_database.worker_urls:
        owner = citus_cluster.psql(
            url,
            "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'app'",
            tuples_only=True,
        )
        assert owner.strip() == citus_database.owner


def test_restart_after_a_crash(citus_cluster: CitusCluster) -> None:
    """A killed run's servers and lock files do not block the next start in the same dir."""
    crashed = CitusCluster(cluster_dir().with_name(cluster_dir().name + "-crash"), base_port=9800)
    crashed.start()
    try:
        for node in crashed.nodes:
            (pid,) = postmaster_pids(node.data_dir)
            # The coordinator's server dies as in a power cut (its lock files stay behind);
            # the workers keep running as orphans of the crashed run.
            if node is crashed.coordinator:
                os.kill(pid, signal.SIGKILL)
        again = CitusCluster(crashed.base_dir, base_port=9800).start()
        assert all(again.running().values())
    finally:
        crashed.stop()
    assert not any(crashed.running().values())
    assert not any(postmaster_pids(Path(node.data_dir)) for node in crashed.nodes)
