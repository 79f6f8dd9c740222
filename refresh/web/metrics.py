"""Prometheus metrics (prometheus-client): requests by route template and status, their
latency, time in the database, the pools, and failed statements by error class.

No label names a tenant, a user or an id: routes are templates (`/api/tasks/{id}`), so
the series are bounded and /metrics says nothing about any one tenant. Per-tenant usage
is in the request log instead (one JSON line per request with `tenant`, `db_ms`, ...).

With several worker processes, set PROMETHEUS_MULTIPROC_DIR (the production command does,
serve.py): every worker writes its values there and any worker's /metrics adds
them up (prometheus-client's multiprocess mode).

/metrics needs `Authorization: Bearer <METRICS_TOKEN>` when that is set; without it, it
is open in development and test, and absent (404) in production.
"""

from __future__ import annotations

import asyncio
import hmac
import os
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from refresh.db import timing
from refresh.db.engines import READ_DB, WRITE_DB
from refresh.web.responses import error_response
from settings import get_settings

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def pool_gauge(name: str, documentation: str, registry: CollectorRegistry) -> Gauge:
    # livesum: with several workers, the sum over the live ones.
    return Gauge(name, documentation, ["pool"], registry=registry, multiprocess_mode="livesum")


class Metrics:
    """The metric objects, made once per process (`metrics()`), on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "refresh_http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "refresh_http_request_duration_seconds",
            "HTTP request duration by route template, method and status",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=r,
        )
        self.db_seconds = Counter(
            "refresh_http_request_db_seconds_total",
            "Time requests spent in database statements, by route template",
            ["route"],
            registry=r,
        )
        self.db_errors = Counter(
            "refresh_db_errors_total",
            "Failed database statements by error class",
            ["error"],
            registry=r,
        )
        self.pool_size = pool_gauge("refresh_db_pool_size", "Connections open", r)
        self.pool_in_use = pool_gauge("refresh_db_pool_in_use", "Connections lent out", r)
        self.pool_waiting = pool_gauge(
            "refresh_db_pool_waiting", "Acquires waiting for a connection", r
        )
        self.pool_max = pool_gauge("refresh_db_pool_max", "Most connections the pool opens", r)
        # (route, method, status) -> its children: labels() costs a lock and a lookup.
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float, db: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            labels = (route, method, str(status))
            children = (
                self.requests.labels(*labels),
                self.duration.labels(*labels),
                self.db_seconds.labels(route),
            )
            self._children[key] = children
        count, duration, db_seconds = children
        count.inc()
        duration.observe(seconds)
        if db:
            db_seconds.inc(db)

    def database_error(self, error: str) -> None:
        self.db_errors.labels(error).inc()

    def sample_pools(self, pools: dict[str, Any]) -> None:
        """Pool gauges from the live pools ({"read": pool, "write": pool})."""
        for name, pool in pools.items():
            if pool is None:
                continue
            size = pool.get_size()
            self.pool_size.labels(name).set(size)
            self.pool_in_use.labels(name).set(size - pool.get_idle_size())
            self.pool_waiting.labels(name).set(getattr(pool, "waiting", 0))
            self.pool_max.labels(name).set(pool.get_max_size())


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    made = Metrics()
    timing.ERROR_HOOKS.append(made.database_error)
    return made


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(metrics().registry)


def allowed(request: Request) -> Response | None:
    """None when the caller may read /metrics, else the refusal."""
    settings = get_settings()
    token = settings.metrics_token
    if not token:
        if settings.environment == "production":
            return error_response(404, "not_found", "not found")
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return None
    return error_response(
        401,
        "unauthorized",
        "/metrics needs the metrics token",
        headers={"www-authenticate": "Bearer"},
    )


def pools() -> dict[str, Any]:
    return {"read": READ_DB.pool, "write": WRITE_DB.pool}


async def metrics_endpoint(request: Request) -> Response:
    refusal = allowed(request)
    if refusal is not None:
        return refusal
    metrics().sample_pools(pools())
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def forget_this_process() -> None:
    """At a worker's shutdown: its pool gauges leave the sums (prometheus-client keeps a
    dead process's files otherwise)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())


async def sample_pools_forever(interval: float = 2.0) -> None:
    """With several workers, the scraped one cannot see the others' pools: each samples
    its own every `interval` seconds (a lifespan task; cancelled at shutdown)."""
    while True:
        metrics().sample_pools(pools())
        await asyncio.sleep(interval)
