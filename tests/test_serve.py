"""The production server (`python -m serve`): several uvloop/httptools workers, JSON logs
with one line per request, metrics added up across the workers, X-Forwarded-For trusted
from the configured proxies only, a graceful stop on SIGTERM; and the refusals, each one
clear line without a traceback, whose advice, followed literally, clears them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scratch import ScratchDatabase, free_port, scratch_database

ROOT = Path(__file__).resolve().parents[1]
SECRET = "a-real-secret-for-the-serve-tests-0123456789abcdef"
METRICS_TOKEN = uuid.uuid4().hex


@pytest.fixture(scope="module")
def database() -> Iterator[ScratchDatabase]:
    with scratch_database("serve") as db:
        db.piccolo("migrations", "forwards", "all")
        yield db


def production(db: ScratchDatabase, **extra: str) -> dict[str, str]:
    env = {**os.environ, **db.env, "ENVIRONMENT": "production", "JWT_SECRET": SECRET}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**env, **extra}


def serve_command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("refresh: not serving: ")
    return line


def piccolo(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "piccolo"), *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_development_secret_is_refused_in_one_line(database: ScratchDatabase) -> None:
    env = production(database)
    env.pop("JWT_SECRET")
    line = refused_line(serve_command(env))
    assert "JWT_SECRET is the development placeholder" in line


def test_the_embedded_database_is_refused_in_production(database: ScratchDatabase) -> None:
    env = production(database)
    env.pop("WRITE_DATABASE_URL")
    env.pop("READ_DATABASE_URL")
    line = refused_line(serve_command(env))
    assert "ENVIRONMENT=production needs WRITE_DATABASE_URL and READ_DATABASE_URL" in line


def test_only_production_is_served(database: ScratchDatabase) -> None:
    line = refused_line(serve_command(production(database, ENVIRONMENT="development")))
    assert "set ENVIRONMENT=production" in line


def test_bad_options_are_refused(database: ScratchDatabase) -> None:
    line = refused_line(serve_command(production(database, WEB_CONCURRENCY="many")))
    assert "WEB_CONCURRENCY must be a whole number" in line


def test_the_demo_is_not_seeded_in_production(database: ScratchDatabase) -> None:
    result = piccolo(production(database), "tenants", "demo")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "refusing to seed the demo with ENVIRONMENT=production" in result.stderr
    assert "acme" not in result.stdout
    # Nothing was seeded: the demo's tenant slug is still free.
    demo_tenant = database.piccolo("tenants", "create", "acme", check=False)
    assert demo_tenant.returncode == 0, demo_tenant.stderr


def test_demo_logins_are_refused_until_their_passwords_change(database: ScratchDatabase) -> None:
    seeded = piccolo({**production(database), "ENVIRONMENT": "test"}, "tenants", "demo")
    assert seeded.returncode == 0, seeded.stderr
    line = refused_line(serve_command(production(database)))
    assert "operator" in line and "acme-staff" in line and "globex-staff" in line
    advice = "`piccolo user change_password`"
    assert advice in line
    # The advice, literally: the command, the username, the new password twice.
    for username in ("operator", "acme-staff", "globex-staff"):
        password = uuid.uuid4().hex
        changed = piccolo(
            production(database),
            "user",
            "change_password",
            stdin=f"{username}\n{password}\n{password}\n",
        )
        assert changed.returncode == 0, changed.stdout + changed.stderr
    # No longer refused: it gets as far as serving (checked by the server test below).
    with server(production(database, WEB_CONCURRENCY="1")) as (base, log):
        assert httpx.get(f"{base}/healthz").status_code == 200
        # No TRUSTED_PROXIES: nobody's X-Forwarded-For names the client, not even a
        # process on this host (uvicorn's own default would trust 127.0.0.1).
        httpx.get(f"{base}/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
        time.sleep(0.5)
        text = log.read_text()
    clients = {
        line.get("client") for line in json_lines(text) if line["logger"] == "refresh.access"
    }
    assert "203.0.113.9" not in clients and "127.0.0.1" in clients, clients


@contextmanager
def server(env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="serve-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "serve"],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, log
        process.send_signal(signal.SIGTERM)
        # A graceful stop: uvicorn finishes, then re-raises SIGTERM to exit by it.
        assert process.wait(30) in (0, -signal.SIGTERM), log.read_text()
        assert "Application shutdown complete." in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        server.last_log = log.read_text()  # type: ignore[attr-defined]
        log.unlink()


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is JSON, or this fails


def test_the_server_runs_workers_logs_json_and_adds_up_metrics(database: ScratchDatabase) -> None:
    # the token's subject is nobody's member: the token alone decides (MEMBERSHIP_CHECK)
    env = production(
        database,
        WEB_CONCURRENCY="2",
        METRICS_TOKEN=METRICS_TOKEN,
        MEMBERSHIP_CHECK="false",
        TRUSTED_PROXIES='["127.0.0.1"]',  # the test client plays the proxy
    )
    created = piccolo(env, "tenants", "create", f"serve-{uuid.uuid4().hex[:8]}")
    assert created.returncode == 0, created.stderr
    tenant_id = created.stdout.strip().splitlines()[-1]
    token = piccolo(env, "rls", "token", "--tenant", tenant_id, "--user", "ops-user")
    assert token.returncode == 0, token.stderr
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    with server(env) as (base, log):
        for _ in range(8):
            with httpx.Client() as client:  # a new connection each: any worker may answer
                assert client.get(f"{base}/api/projects", headers=headers).status_code == 200
        forwarded = httpx.get(
            f"{base}/api/tenant",
            headers={**headers, "X-Forwarded-For": "203.0.113.7", "X-Request-Id": "edge-42"},
        )
        assert forwarded.headers["x-request-id"] == "edge-42"
        assert httpx.get(f"{base}/metrics").status_code == 401
        time.sleep(0.5)  # the logs are flushed per line; give the workers a moment
        scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        lines = json_lines(log.read_text())
    assert scraped.status_code == 200
    # Both workers' counts, whichever answered the scrape.
    count = 'refresh_http_requests_total{method="GET",route="/api/projects",status="200"} 8.0'
    assert count in scraped.text
    assert 'refresh_db_pool_max{pool="read"}' in scraped.text
    assert tenant_id not in scraped.text

    started = {line["pid"] for line in lines if "Started server process" in line["message"]}
    assert len(started) == 2, lines
    requests = [line for line in lines if line["logger"] == "refresh.access"]
    listed = [line for line in requests if line["route"] == "/api/projects"]
    assert len(listed) == 8
    for line in listed:
        assert line["tenant"] == tenant_id and line["subject"] == "ops-user"
        assert line["status"] == 200 and line["db_ms"] > 0 and line["duration_ms"] > 0
        assert line["level"] == "INFO" and line["time"]
    [edge] = [line for line in requests if line["request_id"] == "edge-42"]
    assert edge["client"] == "203.0.113.7"  # from a trusted proxy (127.0.0.1)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert not any("color_message" in line for line in lines)


def tenant_headers(env: dict[str, str], name: str) -> dict[str, str]:
    created = piccolo(env, "tenants", "create", f"{name}-{uuid.uuid4().hex[:8]}")
    assert created.returncode == 0, created.stderr
    tenant_id = created.stdout.strip().splitlines()[-1]
    token = piccolo(env, "rls", "token", "--tenant", tenant_id, "--user", f"{name}-user")
    assert token.returncode == 0, token.stderr
    return {"Authorization": f"Bearer {token.stdout.strip()}"}


async def burst(
    base: str, flooding: dict[str, str], other: dict[str, str]
) -> tuple[list[int], int]:
    """16 concurrent requests of one tenant and, among them, one of another."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        floods = [client.get("/api/projects", headers=flooding) for _ in range(16)]
        answers = await asyncio.gather(*floods, client.get("/api/projects", headers=other))
    return [a.status_code for a in answers[:-1]], answers[-1].status_code


def test_production_limits_each_tenant_by_default(
    database: ScratchDatabase,
) -> None:
    # READ_POOL_MAX_SIZE 2: one request transaction per tenant; an over-limit request
    # waits 1 ms, then gets 429. Set TENANT_MAX_CONCURRENCY=0 and nothing is refused.
    limited = production(
        database,
        WEB_CONCURRENCY="1",
        READ_POOL_MAX_SIZE="2",
        READ_POOL_MIN_SIZE="2",
        TENANT_QUEUE_WAIT_SECONDS="0.001",
        MEMBERSHIP_CHECK="false",
    )
    flooding, other = tenant_headers(limited, "loud"), tenant_headers(limited, "quiet")
    with server(limited) as (base, _):
        statuses, others = asyncio.run(burst(base, flooding, other))
    assert set(statuses) == {200, 429} and others == 200, (statuses, others)
    with server({**limited, "TENANT_MAX_CONCURRENCY": "0"}) as (base, _):
        statuses, others = asyncio.run(burst(base, flooding, other))
    assert set(statuses) == {200} and others == 200, (statuses, others)


def test_a_request_in_flight_at_sigterm_is_answered_before_the_stop(
    database: ScratchDatabase,
) -> None:
    """SIGTERM stops accepting new connections and lets the request already running
    finish: a list held up by a lock the test holds, the stop signalled meanwhile, then
    the lock released; the list answers 200, and only then does the server stop."""
    env = production(database, WEB_CONCURRENCY="1", MEMBERSHIP_CHECK="false")
    headers = tenant_headers(env, "graceful")
    with server(env) as (base, log):
        [pid] = {
            line["pid"]
            for line in json_lines(log.read_text())
            if "Started server process" in line["message"]
        }
        answer, refused = asyncio.run(
            held_up_at_sigterm(base, headers, pid, database.env["WRITE_DATABASE_URL"])
        )
        deadline = time.monotonic() + 20
        while "Application shutdown complete." not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    assert answer.status_code == 200, answer.text
    assert refused  # no new connection once the stop began


async def held_up_at_sigterm(
    base: str, headers: dict[str, str], pid: int, write_url: str
) -> tuple[httpx.Response, bool]:
    import asyncpg

    locker = await asyncpg.connect(write_url)
    try:
        holding = locker.transaction()
        await holding.start()
        await locker.execute("lock table project in access exclusive mode")
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            pending = asyncio.create_task(client.get("/api/projects", headers=headers))
            await asyncio.sleep(1.0)
            assert not pending.done()  # waiting for the lock
            os.kill(pid, signal.SIGTERM)
            await asyncio.sleep(3.0)  # longer than a stop that did not wait would take
            assert not pending.done()  # the stop waits for it
            try:
                async with httpx.AsyncClient(base_url=base, timeout=5) as late:
                    await late.get("/healthz")
                refused = False
            except httpx.TransportError:
                refused = True
            await holding.rollback()  # the lock goes: the list can answer
            return await pending, refused
    finally:
        await locker.close()
