"""Mixed, concurrent API traffic from many tenants, checking every response for leaks."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

from apps.projects.tables import Project
from refresh.db.clients import write_client
from tests.conftest import TenantFixture, make_tenant

EXPECTED = {
    "failing write": 500,
    "create project": 201,
    "create task": 201,
    "list projects": 200,
    "list tasks": 200,
}


@dataclass
class LoadResult:
    leaks: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def unexpected(self) -> dict[tuple[str, int], int]:
        return {k: n for k, n in self.statuses.items() if EXPECTED[k[0]] != k[1]}


async def load_tenants(prefix: str, count: int) -> tuple[list[TenantFixture], dict[str, str]]:
    """Tenants, each with one project named after it (rows are named `<slug>|...`)."""
    tenants = [await make_tenant(f"{prefix}-{i:02d}") for i in range(count)]
    projects = {}
    for t in tenants:
        rows = await write_client.run(
            Project.insert(Project(tenant_id=t.id, name=f"{t.slug}|seed")).returning(Project.id)
        )
        projects[t.slug] = str(rows[0]["id"])
    return tenants, projects


async def run_load(
    base: str,
    tenants: list[TenantFixture],
    projects: dict[str, str],
    requests: int,
    concurrency: int,
    seed: int = 7,
) -> LoadResult:
    rng = random.Random(seed)
    result = LoadResult()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, i: int) -> None:
        tenant = rng.choice(tenants)
        headers = {"Authorization": f"Bearer {tenant.token}"}
        mine = f"{tenant.slug}|"
        roll = rng.random()
        async with semaphore:
            if roll < 0.05:
                kind, r = (
                    "failing write",
                    await client.post(
                        f"/api/_test/write-then-raise?name={mine}fail-{i}", headers=headers
                    ),
                )
            elif roll < 0.30:
                kind, r = (
                    "create project",
                    await client.post(
                        "/api/projects", json={"name": f"{mine}p{i}"}, headers=headers
                    ),
                )
                if r.status_code == 201 and not r.json()["name"].startswith(mine):
                    result.leaks.append(f"created {r.json()['name']}")
            elif roll < 0.45:
                body = {"project_id": projects[tenant.slug], "title": f"{mine}t{i}"}
                kind, r = "create task", await client.post("/api/tasks", json=body, headers=headers)
                if r.status_code == 201 and r.json()["project_name"] != f"{mine}seed":
                    result.leaks.append(f"task in {r.json()['project_name']}")
            elif roll < 0.75:
                kind, r = (
                    "list projects",
                    await client.get("/api/projects?limit=200", headers=headers),
                )
                if r.status_code == 200:
                    names = [p["name"] for p in r.json()["data"]]
                    result.leaks.extend(n for n in names if not n.startswith(mine))
            else:
                kind, r = "list tasks", await client.get("/api/tasks?limit=200", headers=headers)
                if r.status_code == 200:
                    titles = [t["title"] for t in r.json()["data"]]
                    result.leaks.extend(t for t in titles if not t.startswith(mine))
        result.statuses[(kind, r.status_code)] += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(one(client, i) for i in range(requests)))
    return result


async def pool_state(base: str) -> set[tuple[str, str]]:
    """(role, claims) of every connection of the app's read pool, outside any request."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        connections = (await client.get("/_test/pool")).json()["connections"]
    return {(c["role"], c["claims"]) for c in connections}
