"""A small HTTP/1.1 load generator: N keep-alive connections to 127.0.0.1, GET only.

Lighter than an HTTP library per request, which matters on a 2-core machine where the
load generator competes with the server for CPU. Each connection sends its next request
as soon as the previous response is read; latency is measured per request from the write
of the request to the last byte of the response. Bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True)
class Request:
    path: str
    token: str


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _worker(
    port: int, requests: Sequence[Request], next_index: list[int], result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while next_index[0] < len(requests):
            request = requests[next_index[0]]
            next_index[0] += 1
            raw = (
                f"GET {request.path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                f"Authorization: Bearer {request.token}\r\nAccept: application/json\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(raw)
            status = await _read_response(reader)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[status] += 1
            result.requests += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def run_load(
    port: int, requests: Sequence[Request], concurrency: int, timeout_s: float = 120.0
) -> LoadResult:
    """Send every request, `concurrency` at a time; stop after timeout_s whatever happens."""
    result = LoadResult()
    next_index = [0]
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_worker(port, requests, next_index, result)) for _ in range(concurrency)
    ]
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
        result.seconds = time.perf_counter() - started
    return result
