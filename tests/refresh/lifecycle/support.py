"""Tenants generated in SQL (100,000 tasks in seconds), and snapshots of what the database
holds of a tenant, and of every other tenant, to compare before and after."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from apps.tenants.operations import create_tenant
from refresh.db.clients import write_client
from refresh.lifecycle.tables import tenant_tables

ROOT = Path(__file__).resolve().parents[3]


async def generated_tenant(slug: str, tasks: int, comments: int = 0) -> uuid.UUID:
    """A tenant with 20 members, 10 projects, `tasks` tasks (varied columns: arrays, NULLs,
    times) and `comments` comments, all written in SQL by the write client."""
    tenant_id = await create_tenant(slug, f"{slug} Inc.")
    async with write_client.transaction():
        await write_client.fetch(
            "insert into member (id, tenant_id, user_id, email, display_name, role)"
            " select gen_random_uuid(), $1, 'user-' || i, 'u' || i || '@x.test',"
            " 'Member ' || i, case when i = 1 then 'admin' else 'member' end"
            " from generate_series(1, 20) i",
            tenant_id,
        )
        await write_client.fetch(
            "insert into project (id, tenant_id, name, description)"
            " select gen_random_uuid(), $1, 'Project ' || i, 'about ''' || i || E'''\\n'"
            " from generate_series(1, 10) i",
            tenant_id,
        )
        await write_client.fetch(
            """
            with p as (select array_agg(id order by name) ids from project where tenant_id = $1),
                 m as (select array_agg(id order by user_id) ids from member where tenant_id = $1)
            insert into task (id, tenant_id, project_id, title, description, status, priority,
                              assignee_id, due_at, tags)
            select gen_random_uuid(), $1, p.ids[1 + i % 10], 'Task ' || i || ' é "q"',
                   repeat('x', i % 50), (array['todo','in_progress','done','archived'])[1 + i % 4],
                   1 + i % 5, case when i % 3 = 0 then null else m.ids[1 + i % 20] end,
                   case when i % 2 = 0 then null
                        else timestamptz '2026-01-01 10:00:00.123456+00' + i * interval '1 min' end,
                   case when i % 4 = 0 then '{}'::varchar[] else array['t' || i % 7, 'all'] end
              from generate_series(1, $2) i, p, m
            """,
            tenant_id,
            tasks,
        )
        await write_client.fetch(
            """
            with t as (select id, row_number() over (order by id) n from task where tenant_id = $1),
                 m as (select array_agg(id order by user_id) ids from member where tenant_id = $1)
            insert into comment (id, tenant_id, task_id, author_id, body)
            -- every tenth by a removed member: no author
            select gen_random_uuid(), $1, t.id,
                   case when t.n % 10 = 0 then null else m.ids[1 + t.n % 20] end,
                   'comment ' || t.n
              from t, m where t.n <= $2
            """,
            tenant_id,
            comments,
        )
    return tenant_id


async def write_tasks_until(finished: asyncio.Future[Any], tenant_id: uuid.UUID) -> int:
    """Tasks of the tenant written one per transaction (each with its audit entry, in the
    same transaction) until `finished` is done (an export running); how many."""
    (project,) = await write_client.fetch(
        "select id from project where tenant_id = $1 limit 1", tenant_id
    )
    written = 0
    while not finished.done():
        await write_client.fetch(
            "insert into task (id, tenant_id, project_id, title) values"
            " (gen_random_uuid(), $1, $2, 'written during the export')",
            tenant_id,
            project["id"],
        )
        written += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(finished), 0.005)
    return written


async def rows_of(
    tenant_id: uuid.UUID, fetch: Callable[..., Awaitable[list[Any]]] = write_client.fetch
) -> dict[str, list[str]]:
    """Every row of the tenant, per table, as PostgreSQL renders it, ordered by id (by
    `fetch`: the write client, or a connection to another database)."""
    found = {}
    for table in tenant_tables():
        rows = await fetch(
            f"select to_jsonb(t)::text as r from {table.name} t where {table.key} = $1 order by id",
            tenant_id,
        )
        found[table.name] = [r["r"] for r in rows]
    return found


async def others_digest(tenant_id: uuid.UUID) -> dict[str, tuple[int, str]]:
    """(rows, checksum) per table of every tenant but this one (and of the tables kept
    beside the tenants: logins, operator actions): what must not change."""
    digests = {}
    tables = [(t.name, f"{t.key} <> $1") for t in tenant_tables()]
    tables += [
        ("piccolo_user", "$1::uuid is not null"),
        # who of the operators made an entry: of this tenant's entries, it may go
        ("operator_action", "tenant_id <> $1"),
    ]
    for name, condition in tables:
        rows = await write_client.fetch(
            f"select to_jsonb(t)::text as r from {name} t where {condition} order by id",
            tenant_id,
        )
        digest = hashlib.sha256("\n".join(r["r"] for r in rows).encode()).hexdigest()
        digests[name] = (len(rows), digest)
    return digests


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_cli(*args: str) -> Run:
    """The real `piccolo` CLI, with its peak resident memory, sampled every 20 ms (the
    kernel's own maximum would include this test process's, inherited through fork)."""
    executable = Path(sys.executable).parent / "piccolo"
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [str(executable), *args], cwd=ROOT, stdout=out, stderr=err, env=dict(os.environ)
        )
        watched = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.02)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Run(
            process.returncode, out.read().decode(), err.read().decode(), seconds, peak / 2**20
        )


async def exported_and_erased(
    folder: Path, prefix: str, tasks: int, name: str
) -> tuple[uuid.UUID, Path]:
    """A new tenant of `tasks` tasks exported by the command to folder/name (gzip when the
    name ends in .gz), then erased by the command: (its id, the file)."""
    slug = f"{prefix}-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=tasks)
    path = folder / name
    assert run_cli("tenants", "export", slug, "--out", str(path)).returncode == 0
    assert run_cli("tenants", "erase", slug).returncode == 0
    return tenant_id, path


def counts(rows: dict[str, list[Any]]) -> dict[str, int]:
    return {name: len(found) for name, found in rows.items()}


def deflate_start(gzipped: bytes) -> int:
    """Where a gzip file's compressed data begins: after the fixed header (10 bytes) and
    the file name, when its FNAME flag says there is one (Python's gzip writes it)."""
    return gzipped.index(b"\0", 10) + 1 if gzipped[3] & 0x08 else 10


def corrupt_deflate(gzipped: bytes) -> bytes:
    """A gzip file whose first compressed block claims the reserved block type (11): zlib
    refuses it as soon as it is read, whatever the data (a byte flipped at random may
    decompress to other bytes, or only fail at the CRC)."""
    start = deflate_start(gzipped)
    return gzipped[:start] + bytes([gzipped[start] | 0b110]) + gzipped[start + 1 :]
