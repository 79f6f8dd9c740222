"""Benchmark data: N tenants x 1,000 tasks, through COPY, idempotent, with a progress bar.

Each tenant `bench-0000`, `bench-0001`, ... gets 8 members, 10 projects and 1,000 tasks with
realistic statuses, priorities, due dates, tags, titles and descriptions. The rows of a
tenant come from a random generator seeded with its number, so a rerun makes the same data.
Tenants are written in chunks, one transaction each (COPY as the admin role, through the
real constraints, foreign keys and indexes): an interrupted run leaves whole chunks, and
the next run skips every chunk already present. Within a chunk the tasks are written in
creation order, so a tenant's rows are spread over the heap as they would be in a table
that many tenants write to at once. VACUUM ANALYZE at the end, as a live table would have.

The audit trigger (migrations/admin) is disabled inside each chunk's transaction and
enabled again before it commits (`audit_paused`, bench/audit_pause.py): benchmark data is
not an audited change, and a million audit_log rows would only slow the load and distort
the database.

`generate_big_tenant` adds one more tenant, `bench-big`, with 200,000 tasks: the large
tenant of the admin benchmark (bench/admin_bench.py). The other benchmarks leave it out
(`MAIN_TENANTS`).
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.audit_pause import (
    LOADED_TABLES,
    audit_paused,
    check_audit_enabled,
    check_audited_nothing,
)
from bench.progress import Progress

TASKS_PER_TENANT = 1_000
PROJECTS_PER_TENANT = 10
MEMBERS_PER_TENANT = 8
CHUNK_TENANTS = 25
SLUG_PREFIX = "bench-"
# The tenants of the isolation benchmarks (bench-0000 ...), without bench-big.
MAIN_TENANTS = r"select id from tenant where slug ~ '^bench-[0-9]{4}$'"
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so the data is the same on every run

STATUSES = ("todo", "in_progress", "done", "archived")
STATUS_WEIGHTS = (35, 20, 35, 10)
PRIORITIES = (1, 2, 3, 4, 5)
PRIORITY_WEIGHTS = (10, 20, 40, 20, 10)
VERBS = ("Fix", "Update", "Review", "Write", "Design", "Migrate", "Test", "Document", "Ship")
OBJECTS = (
    "invoice export",
    "login flow",
    "onboarding email",
    "search page",
    "billing webhook",
    "mobile layout",
    "report builder",
    "API rate limits",
    "password reset",
    "dashboard charts",
    "CSV import",
    "audit log",
    "notification settings",
    "team permissions",
)
CONTEXTS = ("", "", " for enterprise plan", " on Safari", " before release", " (customer request)")
SENTENCES = (
    "Customers reported this twice last week.",
    "See the linked design document for details.",
    "Blocked until the upstream change lands.",
    "Needs a second reviewer from the platform team.",
    "Check the staging logs before deploying.",
    "Keep the old behaviour behind a feature flag.",
    "Estimate is two days including tests.",
    "Coordinate with support before announcing.",
)
TAGS = ("bug", "feature", "backend", "frontend", "urgent", "ux", "infra", "security", "docs")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Radia")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton")

TENANT_COLUMNS = ("id", "slug", "name", "created_at", "updated_at")
MEMBER_COLUMNS = (
    "id",
    "tenant_id",
    "user_id",
    "email",
    "display_name",
    "role",
    "created_at",
    "updated_at",
)
PROJECT_COLUMNS = ("id", "tenant_id", "name", "description", "status", "created_at", "updated_at")
TASK_COLUMNS = (
    "id",
    "tenant_id",
    "project_id",
    "title",
    "description",
    "status",
    "priority",
    "assignee_id",
    "due_at",
    "tags",
    "created_at",
    "updated_at",
)
COLUMNS = {
    "tenant": TENANT_COLUMNS,
    "member": MEMBER_COLUMNS,
    "project": PROJECT_COLUMNS,
    "task": TASK_COLUMNS,
}


def slug(number: int) -> str:
    return f"{SLUG_PREFIX}{number:04d}"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _moment(rng: random.Random, days_back: int) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(days_back * 86_400))


def tenant_rows(number: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one tenant, the same on every run."""
    rng = random.Random(number)  # noqa: S311 (test data, not secrets)
    tenant_id = _uuid(rng)
    created = _moment(rng, 720)
    rows: dict[str, list[tuple[Any, ...]]] = {
        "tenant": [(tenant_id, slug(number), f"Bench Company {number}", created, created)]
    }
    members = []
    stamps = (created, created)
    for m in range(MEMBERS_PER_TENANT):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        role = "admin" if m == 0 else "member"
        members.append(
            (_uuid(rng), tenant_id, f"user-{m}", f"user{m}@t{number}.test", name, role, *stamps)
        )
    rows["member"] = members
    projects = []
    for p in range(PROJECTS_PER_TENANT):
        status = "archived" if rng.random() < 0.2 else "active"
        moment = _moment(rng, 400)
        name = f"{rng.choice(OBJECTS).title()} {p + 1}"
        projects.append(
            (_uuid(rng), tenant_id, name, rng.choice(SENTENCES), status, moment, moment)
        )
    rows["project"] = projects
    rows["task"] = [_task(rng, tenant_id, projects, members) for _ in range(TASKS_PER_TENANT)]
    return rows


def _task(
    rng: random.Random, tenant_id: uuid.UUID, projects: list[Any], members: list[Any]
) -> tuple[Any, ...]:
    created = _moment(rng, 365)
    updated = min(NOW, created + timedelta(seconds=rng.randrange(30 * 86_400)))
    due = created + timedelta(days=rng.randrange(-10, 90)) if rng.random() < 0.6 else None
    assignee = rng.choice(members)[0] if rng.random() < 0.8 else None
    title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(CONTEXTS)}"
    description = " ".join(rng.sample(SENTENCES, rng.randrange(0, 4)))
    tags = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3)))
    return (
        _uuid(rng),
        tenant_id,
        rng.choice(projects)[0],
        title,
        description,
        rng.choices(STATUSES, STATUS_WEIGHTS)[0],
        rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
        assignee,
        due,
        tags,
        created,
        updated,
    )


async def copy_rows(
    connection: asyncpg.Connection, tables: dict[str, list[tuple[Any, ...]]]
) -> None:
    """COPY rows into their tables, in the caller's transaction, without audit entries."""
    async with audit_paused(connection):
        for table in LOADED_TABLES:
            if tables.get(table):
                await connection.copy_records_to_table(
                    table, records=tables[table], columns=list(COLUMNS[table])
                )


async def _copy_chunk(connection: asyncpg.Connection, numbers: list[int]) -> int:
    tables: dict[str, list[tuple[Any, ...]]] = {table: [] for table in LOADED_TABLES}
    for number in numbers:
        for table, rows in tenant_rows(number).items():
            tables[table].extend(rows)
    tables["task"].sort(key=lambda row: row[10])  # creation order across the chunk's tenants
    async with connection.transaction():
        await copy_rows(connection, tables)
    return len(tables["task"])


async def generate(write_url: str, tenants: int) -> bool:
    """Make sure tenants bench-0000.. bench-(N-1) and their rows exist; True if any were added."""
    connection = await asyncpg.connect(write_url)
    try:
        present = {
            r["slug"]
            for r in await connection.fetch(
                "select slug from tenant where slug like $1", f"{SLUG_PREFIX}%"
            )
        }
        missing = [n for n in range(tenants) if slug(n) not in present]
        if not missing:
            await check_audit_enabled(connection)
            print(f"data: {tenants:,} tenants present, nothing to generate", flush=True)
            return False
        audit_rows = await connection.fetchval("select count(*) from audit_log")
        chunks = [missing[i : i + CHUNK_TENANTS] for i in range(0, len(missing), CHUNK_TENANTS)]
        progress = Progress(
            f"data: {len(missing):,} tenants x {TASKS_PER_TENANT:,} tasks", len(chunks)
        )
        started = time.monotonic()
        rows = 0
        for chunk in chunks:
            rows += await _copy_chunk(connection, chunk)
            progress.advance(f"{rows:,} tasks")
        progress.done(f"{rows:,} tasks in {time.monotonic() - started:.0f} s")
        await check_audited_nothing(connection, audit_rows)
        print("data: vacuum analyze ...", end="", flush=True)
        started = time.monotonic()
        await connection.execute("vacuum (analyze) tenant, member, project, task")
        print(f" {time.monotonic() - started:.0f} s", flush=True)
        return True
    finally:
        await connection.close()


async def dataset_size(write_url: str) -> dict[str, int]:
    """Tenants and tasks of the isolation benchmarks (bench-NNNN), and tasks in all."""
    connection = await asyncpg.connect(write_url)
    try:
        tenants = await connection.fetchval(f"select count(*) from ({MAIN_TENANTS}) t")
        tasks = await connection.fetchval(
            f"select count(*) from task where tenant_id in ({MAIN_TENANTS})"
        )
        total = await connection.fetchval("select count(*) from task")
        return {"tenants": int(tenants), "tasks": int(tasks), "all_tasks": int(total)}
    finally:
        await connection.close()


if __name__ == "__main__":  # python -m bench.datagen [TENANTS]
    import asyncio

    from bench import server

    database = server.start()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    asyncio.run(generate(database.write_url, count))
