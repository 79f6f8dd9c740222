"""The pool the engines use: asyncpg's, with a bounded, first-come-first-served acquire.

- Bounded: Piccolo acquires without a timeout, and a busy pool must become a 503
  (TimeoutError) after DB_ACQUIRE_TIMEOUT, not a request that hangs.
- First come, first served: asyncpg hands its connections out through an asyncio queue,
  whose `get()` lets a newcomer take a connection that was just released to a waiter who
  has not run yet; the waiter then queues again at the end. Under load (more requests in
  flight than connections) a few requests were passed over again and again, and the
  app's p99 latency stood far above its median (bench/RESULTS.md, "A fair pool"). So
  the pool's connections are counted by an asyncio Semaphore (fair: no newcomer passes
  a waiter) that a request passes before asyncpg's queue, which then always has a
  connection for it.
- Counted: `waiting` is the number of acquires in progress (for /metrics: asyncpg does not
  say).

Everything else is asyncpg's pool. Connections are given back through `release` (or the
acquire's `async with`), which is what Piccolo and refresh/db/transaction.py do.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


class FairPool:
    """An asyncpg pool whose acquire() waits its turn, and at most `timeout` seconds."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._turns = asyncio.Semaphore(pool.get_max_size())
        self.waiting = 0

    def acquire(self, *, timeout: float | None = None) -> Acquire:
        return Acquire(self, self._timeout if timeout is None else timeout)

    async def take(self, within: float) -> Any:
        """A connection, once the waiters before this one have theirs; TimeoutError
        after `within` seconds."""
        self.waiting += 1
        try:
            if not self._turns.locked():
                # A free turn: no one waits before this request and asyncpg's queue holds
                # an idle connection for it, so nothing below waits but a reconnect, which
                # the pool's connect timeout bounds by the same deadline
                # (refresh/db/engines.py). So no timer is armed, which on every request
                # was a visible share of the worker (bench/NOTES.md, "The app's own CPU on
                # the task by id").
                await self._turns.acquire()  # returns at once
                return await self._connection()
            # One deadline for the turn and the connection. asyncpg's own acquire timeout
            # is asyncio.wait_for, a task per acquire: about 3% of a worker's time on the
            # task-by-id endpoint under load (bench/RESULTS.md, "The pool's deadline").
            async with asyncio.timeout(within):
                await self._turns.acquire()
                return await self._connection()
        finally:
            self.waiting -= 1

    async def _connection(self) -> Any:
        """asyncpg's connection for a turn taken; the turn is given back if none comes."""
        try:
            return await self._pool.acquire()
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: Any) -> None:
        try:
            await self._pool.release(connection)
        finally:
            self._turns.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class Acquire:
    """`await pool.acquire()` (give it back with `pool.release`) or `async with`."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: FairPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: Any = None

    def __await__(self) -> Any:
        return self._pool.take(self._timeout).__await__()

    async def __aenter__(self) -> Any:
        self._connection = await self._pool.take(self._timeout)
        return self._connection

    async def __aexit__(self, *exc_info: Any) -> None:
        connection, self._connection = self._connection, None
        await self._pool.release(connection)
