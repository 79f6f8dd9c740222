"""Statements and round trips the server receives per request, from pg_stat_statements.

For each variant and endpoint: reset the statistics, send K requests one at a time, read
what every role but the superuser ran in the bench database, divide by K. The statements
are grouped by what they are for. asyncpg's pool reset (`RESET ROLE; SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`, on every release) is one
message holding several statements: it counts as one round trip.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import asyncpg

from bench import pgstats
from bench.http_bench import ENDPOINTS, Caller, request_batch
from bench.http_client import run_load
from bench.servers import AppServer

POOL_RESET = (
    "reset role",
    "select pg_advisory_unlock_all()",
    "close all",
    "unlisten *",
    "reset all",
)


@dataclass
class RequestStatements:
    variant: str
    endpoint: str
    per_request: dict[str, float] = field(default_factory=dict)  # kind -> statements/request
    texts: dict[str, list[str]] = field(default_factory=dict)  # kind -> statement texts
    reset_messages: float = 0.0  # pool resets per request (one message each)

    @property
    def statements(self) -> float:
        return sum(self.per_request.values())

    @property
    def round_trips(self) -> float:
        # The reset's statements travel together: one round trip per release. The request
        # transaction sends its COMMIT in that same message, and its BEGIN in the message
        # of auth.begin_request (refresh/db/transaction.py; pg_stat_statements counts
        # statements, not messages: tests/refresh/db/test_request_round_trips.py counts
        # the messages).
        together = 0.0
        if self.variant == "rls":
            together = min(self.count("COMMIT"), self.reset_messages) + min(
                self.count("BEGIN"), self.count("role + claims")
            )
        return self.statements - self.count("pool reset") + self.reset_messages - together

    def count(self, kind: str) -> float:
        return self.per_request.get(kind, 0.0)


def kind_of(query: str) -> str:
    text = " ".join(query.lower().split()).rstrip(";")
    if text.startswith(("begin", "start transaction")):
        return "BEGIN"
    if text.startswith(("commit", "rollback", "end")):
        return "COMMIT"
    if "auth.begin_request" in text:
        return "role + claims"
    if text in POOL_RESET:
        return "pool reset"
    if text.startswith(("set ", "reset ")) or "set_config" in text:
        return "other SET"
    return "app query"


async def count_statements(
    superuser_url: str,
    servers: dict[str, AppServer],
    callers: list[Caller],
    requests: int,
) -> list[RequestStatements]:
    rng = random.Random(11)  # noqa: S311 (sampling, not secrets)
    superuser = await asyncpg.connect(superuser_url)
    results = []
    try:
        for endpoint in ENDPOINTS:
            batch = request_batch(endpoint, callers, requests, rng)
            for variant in ("rls", "baseline"):
                await pgstats.reset(superuser)
                load = await run_load(servers[variant].port, batch, concurrency=1)
                if load.errors:
                    raise RuntimeError(f"{variant} {endpoint.name}: {dict(load.statuses)}")
                result = RequestStatements(variant, endpoint.name)
                for stat in await pgstats.statements(superuser):
                    kind = kind_of(stat.query)
                    result.per_request[kind] = result.count(kind) + stat.calls / requests
                    result.texts.setdefault(kind, []).append(" ".join(stat.query.split()))
                    if kind == "pool reset":
                        per_request = stat.calls / requests
                        result.reset_messages = max(result.reset_messages, per_request)
                results.append(result)
    finally:
        await superuser.close()
    return results
