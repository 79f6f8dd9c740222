"""Load by wrk (C, Debian's package): the load generator takes no Python CPU from the servers.

`ensure_wrk()` installs the package with apt-get when it is missing. `run()` sends a fixed
list of requests (path and bearer token each, the same list for every variant) round
robin from 2 threads over 32 keep-alive connections for a given time, and reads what the
Lua `done` hook prints: requests, duration, p50/p99 latency and errors.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.http_client import Request

THREADS = 2
CONNECTIONS = 32

SCRIPT = """
local requests = {
%s
}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  local r = requests[(i %% #requests) + 1]
  return wrk.format("GET", r[1], {["Authorization"] = "Bearer " .. r[2],
                                  ["Accept"] = "application/json"})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def ensure_wrk() -> str:
    """The wrk binary, installed from the distribution's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: installing wrk (apt-get install wrk)", flush=True)
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError("wrk is missing and there is no apt-get: install wrk")
    subprocess.run([apt, "update", "-qq"], check=True)  # noqa: S603 (fixed arguments)
    subprocess.run([apt, "install", "-y", "-qq", "wrk"], check=True)  # noqa: S603
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("apt-get install wrk did not provide wrk")
    return found


def write_script(path: Path, requests: Sequence[Request]) -> Path:
    def lua(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    rows = ",\n".join(f"  {{{lua(r.path)}, {lua(r.token)}}}" for r in requests)
    path.write_text(SCRIPT % rows)
    return path


def parse(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith("RESULT "):
            n, micros, p50, p99, status, sockets = (int(x) for x in line.split()[1:])
            return WrkResult(n, micros / 1e6, p50 / 1000, p99 / 1000, status, sockets)
    raise RuntimeError(f"wrk printed no result:\n{output}")


async def run(
    port: int,
    script: Path,
    seconds: float,
    while_running: Callable[[], None] = lambda: None,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> WrkResult:
    """wrk -t2 -c32 (or `threads`, `connections`) -d{seconds}s against 127.0.0.1:port;
    `while_running` every 50 ms."""
    process = await asyncio.create_subprocess_exec(
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    communicate = asyncio.ensure_future(process.communicate())
    while not communicate.done():
        while_running()
        await asyncio.wait({communicate}, timeout=0.05)
    output, _ = communicate.result()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output.decode()}")
    return parse(output.decode())
