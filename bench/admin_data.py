"""The large tenant of the admin benchmark, and the two admin logins that read it.

`bench-big` gets 50 members, 200 projects and 200,000 tasks made by datagen's task
generator (seeded: the same rows on every run), written by COPY in one transaction with
the audit trigger paused (audit_pause.audit_paused), then VACUUM ANALYZE. Idempotent: a run
that finds the tenant with all its tasks does nothing; an interrupted load leaves nothing.
Its rows go to the end of the heap, after the 1,000 small tenants, as a tenant that grew
last would.

Logins (created once, through the write client, as `piccolo admin staff-create` does):
`bench-big-staff`, the tenant's staff (sees bench-big only, through RLS), and
`bench-operator`, a superuser (sees every tenant, through the write client).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from bench import audit_pause, datagen
from bench.progress import Progress

SLUG = "bench-big"
TASKS = 200_000  # make bench; BENCH_ADMIN_TASKS measures another size, in a database of its own
PROJECTS = 200
MEMBERS = 50
CHUNK = 20_000
SEED = 1_000_000  # apart from the small tenants' seeds (their numbers, 0..999)

STAFF = "bench-big-staff"
OPERATOR = "bench-operator"
PASSWORD = "bench-admin-password-1"  # noqa: S105 (a throwaway database on a unix socket)


def tasks_wanted() -> int:
    """BENCH_ADMIN_TASKS (a multiple of CHUNK), else TASKS."""
    wanted = int(os.environ.get("BENCH_ADMIN_TASKS", TASKS))
    if wanted <= 0 or wanted % CHUNK:
        raise SystemExit(f"BENCH_ADMIN_TASKS: {wanted:,} is not a positive multiple of {CHUNK:,}")
    return wanted


def database_name(tasks: int) -> str:
    """The bench database for make bench's size; any other size gets its own, so the
    two never meet (ensure_big_tenant refuses a tenant of another size)."""
    return "refresh_bench" if tasks == TASKS else f"refresh_bench_admin_{tasks}"


@dataclass(frozen=True)
class BigTenant:
    id: uuid.UUID
    tasks: int


def _head(rng: random.Random) -> dict[str, list[tuple[Any, ...]]]:
    """The tenant row, its members and projects."""
    tenant_id = datagen._uuid(rng)
    created = datagen.NOW - timedelta(days=720)
    stamps = (created, created)
    members = []
    for m in range(MEMBERS):
        name = f"{rng.choice(datagen.FIRST_NAMES)} {rng.choice(datagen.LAST_NAMES)}"
        role = "admin" if m == 0 else "member"
        email = f"user{m}@big.test"
        members.append((datagen._uuid(rng), tenant_id, f"user-{m}", email, name, role, *stamps))
    projects = []
    for p in range(PROJECTS):
        status = "archived" if rng.random() < 0.2 else "active"
        moment = datagen._moment(rng, 400)
        name = f"{rng.choice(datagen.OBJECTS).title()} {p + 1}"
        description = rng.choice(datagen.SENTENCES)
        projects.append((datagen._uuid(rng), tenant_id, name, description, status, moment, moment))
    tenant = (tenant_id, SLUG, "Bench Big Company", created, created)
    return {"tenant": [tenant], "member": members, "project": projects}


def _tasks(chunk: int, head: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    rng = random.Random(SEED + 1 + chunk)  # noqa: S311 (test data, not secrets)
    tenant_id = head["tenant"][0][0]
    rows = [datagen._task(rng, tenant_id, head["project"], head["member"]) for _ in range(CHUNK)]
    rows.sort(key=lambda row: row[10])  # creation order within the chunk
    return rows


async def ensure_big_tenant(write_url: str, tasks: int = TASKS) -> BigTenant:
    connection = await asyncpg.connect(write_url)
    try:
        row = await connection.fetchrow(
            "select t.id, (select count(*) from task where tenant_id = t.id) as tasks"
            " from tenant t where slug = $1",
            SLUG,
        )
        if row is not None:
            if row["tasks"] != tasks:
                raise RuntimeError(f"{SLUG} has {row['tasks']:,} tasks, not {tasks:,}")
            await audit_pause.check_audit_enabled(connection)
            print(f"admin data: {SLUG} present with {tasks:,} tasks", flush=True)
            return BigTenant(row["id"], tasks)
        head = _head(random.Random(SEED))  # noqa: S311 (test data, not secrets)
        audit_rows = await connection.fetchval("select count(*) from audit_log")
        progress = Progress(f"admin data: {SLUG}, {tasks:,} tasks", tasks // CHUNK)
        started = time.monotonic()
        async with connection.transaction():
            await datagen.copy_rows(connection, head)
            for chunk in range(tasks // CHUNK):
                await datagen.copy_rows(connection, {"task": _tasks(chunk, head)})
                progress.advance(f"{(chunk + 1) * CHUNK:,} tasks")
        progress.done(f"in {time.monotonic() - started:.0f} s")
        await audit_pause.check_audited_nothing(connection, audit_rows)
        print("admin data: vacuum analyze ...", end="", flush=True)
        started = time.monotonic()
        await connection.execute("vacuum (analyze) tenant, member, project, task")
        print(f" {time.monotonic() - started:.0f} s", flush=True)
        return BigTenant(head["tenant"][0][0], tasks)
    finally:
        await connection.close()


async def ensure_logins(tenant_id: uuid.UUID) -> None:
    """The staff login of bench-big and an operator, unless they exist (write client)."""
    from piccolo.apps.user.tables import BaseUser

    from apps.admin.staff import create_staff
    from refresh.db.clients import write_client

    async def exists(username: str) -> bool:
        return bool(await write_client.run(BaseUser.exists().where(BaseUser.username == username)))

    if not await exists(STAFF):
        await create_staff(STAFF, PASSWORD, tenant_id)
        print(f"admin data: staff login {STAFF} created for {SLUG}", flush=True)
    if not await exists(OPERATOR):
        await BaseUser.create_user(
            username=OPERATOR,
            password=PASSWORD,
            email=f"{OPERATOR}@operators.invalid",
            admin=True,
            superuser=True,  # operators are superusers: they see every tenant
            active=True,
        )
        print(f"admin data: operator login {OPERATOR} created", flush=True)
