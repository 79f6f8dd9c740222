"""refresh/db/pool.py: connections are given in the order they were asked for, so no
request is passed over while others are served again and again; a turn not given in time
is a TimeoutError that costs the pool nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from refresh.db.engines import WRITE_DB, engine_config
from refresh.db.pool import FairPool
from settings import get_settings

TASKS = 8


async def most_served_while_waiting(
    acquire: Callable[[], Awaitable[Any]], release: Callable[[Any], Awaitable[None]]
) -> int:
    """TASKS requests for two connections, 100 rounds each: the most acquires that
    completed while one request waited for its own."""
    served = worst = 0

    async def requests() -> None:
        nonlocal served, worst
        for _ in range(100):
            before = served
            connection = await acquire()
            worst = max(worst, served - before)
            served += 1
            await connection.fetchval("select 1")
            await release(connection)

    await asyncio.gather(*(requests() for _ in range(TASKS)))
    return worst


@pytest.fixture
async def raw_pool(app: Any) -> Any:
    pool = await asyncpg.create_pool(**WRITE_DB.config, min_size=2, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def test_no_request_waits_behind_more_than_the_others_once(raw_pool: Any) -> None:
    # First come, first served: a waiter sees each other request served at most once
    # before its turn. (asyncpg's own queue let newcomers pass waiters: over runs of
    # this loop it reached 10-15 of them, most runs.)
    pool = FairPool(raw_pool, timeout=5)
    for _ in range(3):
        assert await most_served_while_waiting(pool.acquire, pool.release) <= TASKS - 1
    assert pool.waiting == 0


async def test_a_turn_not_given_in_time_is_a_timeout_and_frees_nothing(raw_pool: Any) -> None:
    pool = FairPool(raw_pool, timeout=0.05)
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(TimeoutError):
        await pool.acquire()
    assert pool.waiting == 0
    for connection in held:
        await pool.release(connection)
    async with pool.acquire() as first, pool.acquire() as second:  # no turn was lost
        assert [await c.fetchval("select 1") for c in (first, second)] == [1, 1]


async def test_a_free_turn_whose_connection_must_be_made_again_meets_the_deadline() -> None:
    """No timer guards a free turn (refresh/db/pool.py): a reconnect to a server that
    accepts and never answers must still end at the deadline, through the connect
    timeout the engines' configuration sets to the same value."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = get_settings().model_copy(update={"db_acquire_timeout": 0.3})
    config = engine_config(f"postgresql://nobody@127.0.0.1:{port}/none", settings)
    raw = await asyncpg.create_pool(**config, min_size=0, max_size=2)
    pool = FairPool(raw, timeout=settings.db_acquire_timeout)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.acquire()
        assert time.monotonic() - started < 1.5
        assert pool.waiting == 0 and not pool._turns.locked()  # the turn was given back
    finally:
        raw.terminate()
        silent.close()
