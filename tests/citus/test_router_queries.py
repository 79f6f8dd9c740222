"""Router queries on Citus (TEST_CITUS=1, `make test-citus`): every query of a request names
its tenant as a constant, so Citus runs it on one shard.

The suite's read login role refuses any query that would run on more than one shard
(tests/database.py refuse_fan_out), so every API and staff request the suite makes is
proof by itself; these tests show that the refusal is real, that the queries of each API
request type are single-shard plans, and that the tables are placed as declared."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest

from tests.conftest import TenantFixture
from tests.request_sql import as_request

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS"), reason="needs the suite on Citus (make test-citus)"
)


async def test_a_query_that_would_fan_out_is_refused(tenant_a: TenantFixture) -> None:
    # RLS alone (no tenant constant) would visit every shard: the suite forbids it
    with pytest.raises(asyncpg.PostgresError, match="multi-task query"):
        await as_request(tenant_a, "select count(*) from task")
    rows = await as_request(
        tenant_a, f"select count(*) as n from task where tenant_id = '{tenant_a.id}'"
    )
    assert rows[0]["n"] >= 0


async def test_each_api_query_is_one_shard_task(app: Any, tenant_a: TenantFixture) -> None:
    """The SQL Piccolo renders for the API's queries inside a request of tenant A names A
    as a constant and is planned by Citus as a single task."""
    from apps.projects.tables import Project
    from apps.tasks.queries import COLUMNS
    from apps.tasks.tables import Comment, Task
    from apps.tenants.tables import Member
    from refresh.db.claims import Channel, build_claims
    from refresh.db.engines import READ_DB
    from refresh.db.transaction import RequestTransaction

    claims = build_claims(
        {"sub": f"{tenant_a.slug}-member", "tenant_id": str(tenant_a.id)}, Channel.api
    )
    # built inside a request transaction, as handlers build them; explained as the request
    async with RequestTransaction(READ_DB, claims, "authenticated", read_only=True):
        queries = {
            "task list": Task.select(*COLUMNS).order_by(Task.created_at).limit(51),
            "one task": Task.select(*COLUMNS).where(Task.id == tenant_a.id).first(),
            "comments": Comment.select().where(Comment.task_id == tenant_a.id),
            "count": Task.count().where(Task.status == "todo"),
            "exists": Task.exists().where(Task.id == tenant_a.id),
            "update": Task.update({Task.priority: 2}).where(Task.id == tenant_a.id),
            "delete": Task.delete().where(Task.id == tenant_a.id),
            "project list": Project.select(Project.id, Project.name).order_by(Project.name),
            "member list": Member.select(Member.id, Member.role).where(Member.role == "admin"),
            "project insert": Project.insert(
                Project(tenant_id=tenant_a.id, name="routed")
            ).returning(Project.id),
            "comment insert": Comment.insert(
                Comment(
                    tenant_id=tenant_a.id, task_id=tenant_a.id, author_id=tenant_a.id, body="routed"
                )
            ),
        }
        rendered = {name: str(query) for name, query in queries.items()}
    for name, sql in rendered.items():
        assert f"'{tenant_a.id}'" in sql, (name, sql)
        plan = await as_request(tenant_a, "explain " + sql)
        text = "\n".join(row["QUERY PLAN"] for row in plan)
        assert "Task Count: 1" in text, (name, text)


async def test_declared_tables_are_placed_as_declared(app: Any) -> None:
    from refresh.db.clients import write_client
    from refresh.schema.distribution import live_colocations, live_placements
    from refresh.tenancy.declarations import Distribution

    placements = await live_placements()
    assert placements["tenant"] is Distribution.reference
    sharded = {t for t, p in placements.items() if p is Distribution.by_tenant}
    assert {"member", "project", "task", "comment", "audit_log"} <= sharded
    colocations = await live_colocations()
    assert len({colocations[t] for t in sharded}) == 1
    shards = await write_client.fetch(
        "select count(distinct nodeport) as nodes from pg_dist_shard_placement"
        " join pg_dist_shard using (shardid) join pg_dist_partition using (logicalrelid)"
        " where partmethod = 'h'"
    )
    assert shards[0]["nodes"] == 2
