"""A tenant table whose rows refer to rows of the same table (subtasks, replies): an
import puts its rows in whatever order the file holds them, a child before its parent
included, in batches. The database checks each key at the end of the statement that
inserts its row, so batches of such a table go through a staging table and into the
table in one statement: no batch can fail for a parent that a later batch brings."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from refresh.db.clients import write_client
from refresh.lifecycle.fileformat import TableEntry
from refresh.lifecycle.inserting import BATCH, STAGE_PREFIX, insert_rows
from refresh.lifecycle.progress import Progress
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.tables import TenantRows
from refresh.rls.tables import AuditLog
from tests.database import superuser_sql, test_database

TABLE = "lifecycle_thread"


ON_CITUS = os.environ.get("TEST_CITUS") == "1"


@pytest.fixture
async def threads() -> AsyncIterator[TenantRows]:
    """A table of the test's own, shaped as a developer's tenant table would be (keys by
    tenant; sharded by tenant on Citus): its `parent` refers to the same table. (The class
    is a stand-in: the insert reads the catalog.)"""
    await write_client.execute(
        f"create table {TABLE} (id uuid not null, tenant_id uuid not null, parent uuid,"
        " body text not null, primary key (tenant_id, id),"
        f" foreign key (tenant_id, parent) references {TABLE} (tenant_id, id))"
    )
    if ON_CITUS:
        await write_client.execute(f"select create_distributed_table('{TABLE}', 'tenant_id')")
    try:
        yield TenantRows(TABLE, AuditLog, "tenant_id", exported=True)
    finally:
        await write_client.execute(f"drop table {TABLE}")


def chain(tenant_id: uuid.UUID, length: int) -> list[dict[str, Any]]:
    """Rows in file order, each the child of the next: every parent comes after its
    child, most of them in a later batch."""
    ids = [uuid.uuid4() for _ in range(length)]
    return [
        {
            "id": str(row_id),
            "tenant_id": str(tenant_id),
            "parent": str(ids[n + 1]) if n + 1 < length else None,
            "body": f"reply {n}",
        }
        for n, row_id in enumerate(ids)
    ]


async def insert(table: TenantRows, tenant_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    lines = (json.dumps(row).encode() + b"\n" for row in rows)
    entry = TableEntry(table.name, len(rows), "")
    progress = Progress("import", len(rows), io.StringIO())
    async with write_client.connection() as connection:
        async with connection.transaction():
            await insert_rows(connection, table, entry, lines, tenant_id, progress)


async def stored(tenant_id: uuid.UUID) -> dict[str, str | None]:
    rows = await write_client.fetch(
        f"select id::text, parent::text from {TABLE} where tenant_id = $1", tenant_id
    )
    return {row["id"]: row["parent"] for row in rows}


async def test_children_before_their_parents_in_later_batches_go_in(
    threads: TenantRows,
) -> None:
    tenant_id = uuid.uuid4()
    rows = chain(tenant_id, BATCH * 2 + 500)
    await insert(threads, tenant_id, rows)
    assert await stored(tenant_id) == {row["id"]: row["parent"] for row in rows}


async def test_a_parent_missing_from_the_file_still_refuses_it_and_nothing_goes_in(
    threads: TenantRows,
) -> None:
    tenant_id = uuid.uuid4()
    rows = chain(tenant_id, BATCH + 10)
    del rows[-1]  # the last parent of the chain
    with pytest.raises(asyncpg.PostgresError, match="violates foreign key constraint"):
        await insert(threads, tenant_id, rows)
    assert await stored(tenant_id) == {}


async def test_a_row_of_another_tenant_is_refused_as_before(threads: TenantRows) -> None:
    tenant_id, other = uuid.uuid4(), uuid.uuid4()
    rows = chain(tenant_id, BATCH + 10)
    rows[BATCH + 3]["tenant_id"] = str(other)
    with pytest.raises(ImportRefused, match="1 rows belong to another tenant"):
        await insert(threads, tenant_id, rows)
    assert await stored(tenant_id) == {} and await stored(other) == {}


async def test_the_write_client_needs_no_temporary_tables(threads: TenantRows) -> None:
    """A deployment may revoke TEMPORARY from every role but the database's owner (the rls
    migrations revoke it from PUBLIC; `rls check` advises it where they could not), and
    the write client need not own the database: the staging table is not a temporary one."""
    role = (await write_client.fetch("select current_user as role"))[0]["role"]

    async def may_create_temporary_tables() -> bool:
        sql = "select has_database_privilege(current_database(), 'TEMPORARY') as may"
        return bool((await write_client.fetch(sql))[0]["may"])

    database = test_database()
    superuser_sql(database, f'revoke temporary on database "{database.name}" from "{role}";')
    try:
        assert not await may_create_temporary_tables()
        tenant_id = uuid.uuid4()
        rows = chain(tenant_id, BATCH + 10)
        await insert(threads, tenant_id, rows)
        assert await stored(tenant_id) == {row["id"]: row["parent"] for row in rows}
    finally:
        superuser_sql(database, f'grant temporary on database "{database.name}" to "{role}";')
    assert await may_create_temporary_tables()


async def test_no_staging_table_is_left_behind(threads: TenantRows) -> None:
    tenant_id = uuid.uuid4()
    await insert(threads, tenant_id, chain(tenant_id, 10))
    with pytest.raises(asyncpg.PostgresError, match="violates foreign key constraint"):
        await insert(threads, tenant_id, chain(tenant_id, 10)[:-1])
    assert (
        await write_client.fetch(
            "select relname from pg_class where relname like $1", STAGE_PREFIX + "%"
        )
        == []
    )
