"""The API on a large tenant: a member of bench-big (200,000 tasks) lists its tasks.

The throughput benchmark's tenants hold 1,000 tasks each, and a list's plan that suits
them need not suit a tenant two hundred times larger: a plan made once for any tenant
assumes one of average size. These are the task list's requests a client of that tenant
sends (filters, searches, sorts), through the real app under uvicorn (the admin
benchmark's server), one at a time: each repetition sends every request once, in
alternating order, after an untimed pass that also checks each answer's size; a figure
is the median over the repetitions, with the spread min - max.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.progress import Progress
from bench.report import ms_text
from bench.stats import median

LIMIT = 50
NO_MATCH = "zzzz"  # in no title or description: the search reads every row


@dataclass(frozen=True)
class ApiCheck:
    name: str
    query: str  # of GET /api/tasks
    full_page: bool = True  # else: no row


@dataclass
class ApiTimed:
    check: ApiCheck
    ms: list[float] = field(default_factory=list)


CHECKS = (
    ApiCheck("first page, newest first (no filter)", ""),
    ApiCheck("status = done, by due date", "status=done&sort=due_at"),
    ApiCheck("priority >= 4, by priority", "priority_min=4&sort=priority"),
    ApiCheck("search 'invoice' (title or description)", "q=invoice"),
    ApiCheck("search 'e' (nearly every task matches)", "q=e"),
    ApiCheck("search 'e', by due date, latest first", "q=e&sort=due_at&order=desc"),
    ApiCheck("search without a match", f"q={NO_MATCH}", full_page=False),
)


def path(check: ApiCheck) -> str:
    return f"/api/tasks?limit={LIMIT}" + (f"&{check.query}" if check.query else "")


def member_token(tenant_id: uuid.UUID) -> str:
    """A plain member of bench-big (admin_data: user-1), as a client app holds it."""
    from refresh.db.claims import TenantRole
    from refresh.web.tokens import issue_token
    from settings import get_settings

    return issue_token(get_settings(), tenant_id, "user-1", TenantRole.member, 7200)


async def _send(client: httpx.AsyncClient, check: ApiCheck, verify: bool) -> float:
    started = time.perf_counter()
    response = await client.get(path(check))
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{check.name}: {response.status_code} {response.text[:300]}")
    rows = len(response.json()["data"])
    if verify and rows != (LIMIT if check.full_page else 0):
        raise RuntimeError(f"{check.name}: {rows} rows")
    return elapsed


async def measure(base_url: str, tenant_id: uuid.UUID, reps: int) -> list[ApiTimed]:
    headers = {"Authorization": f"Bearer {member_token(tenant_id)}"}
    timed = [ApiTimed(c) for c in CHECKS]
    progress = Progress(f"API on bench-big: {len(timed)} requests x {reps} repetitions", reps + 1)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        for rep in range(reps + 1):  # pass 0: warm-up and the answers' checks, untimed
            for t in timed if rep % 2 == 0 else timed[::-1]:
                elapsed = await _send(client, t.check, verify=rep == 0)
                if rep > 0:
                    t.ms.append(elapsed)
            progress.advance(f"{sum(median(t.ms) for t in timed if t.ms):,.0f} ms per pass")
    progress.done()
    return timed


def api_table(timed: list[ApiTimed]) -> str:
    lines = [
        "| request (a member of bench-big) | `GET` | median | spread (min - max) |",
        "|---|---|---|---|",
    ]
    for t in timed:
        spread = f"{ms_text(min(t.ms))} - {ms_text(max(t.ms))}"
        lines.append(f"| {t.check.name} | `{path(t.check)}` | {ms_text(median(t.ms))} | {spread} |")
    return "\n".join(lines)
