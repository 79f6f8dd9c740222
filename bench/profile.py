"""Where a worker's time goes under load: py-spy on one uvicorn worker, grouped by step.

    python -m bench.profile [rls|baseline|floor] [list|fetch] [SECONDS] [native]

Starts the variant's server on the bench database (run `make bench` once first, for the
data), loads it with wrk (-t2 -c32) while py-spy samples it (250 Hz), and prints the share
of samples per step of the request path, with the part spent inside socket write()
calls (on this 2-core machine, mostly waiting for the CPU while the PostgreSQL backend
just woken runs). With `native`, py-spy also samples the C frames (its --native): the
garbage collector's passes get a step of their own, and the socket writes show as the
C library's write(). The raw samples are kept in .data/bench-logs/ for flame graphs.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path

from bench import server

# (step, substrings of the stack that identify it), first match wins
STEPS = (
    # first: a collection runs inside whatever step allocated the object that started it
    ("garbage collection (native only)", ("gc_collect_main",)),
    ("BEGIN + role + claims (one message)", ("RequestTransaction.start",)),
    ("COMMIT + reset (one message)", ("PooledTransaction._end",)),
    ("pool acquire", ("Pool._acquire",)),
    ("pool release + reset", ("Pool.release",)),
    ("JWT verification", ("TokenVerifier.verify",)),
    ("the query (Piccolo + asyncpg)", ("Select.run",)),
    ("the query (Piccolo + asyncpg)", ("FrozenWithParams.rows",)),
    ("JSON encoding", ("JSONResponse.render",)),
    ("query parameters (pydantic)", ("parse_query",)),
    ("sending the response", ("RequestResponseCycle.send",)),
    ("waiting for work (epoll)", ("EpollSelector.select",)),
    ("the floor's handler", ("floor_app",)),
)


def read_samples(path: Path) -> list[tuple[str, str, int]]:
    """(stack, leaf, count) from py-spy's raw (collapsed) output."""
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")]
            out.append((";".join(frames), frames[-1], int(count)))
    return out


def step_of(stack: str) -> str:
    for name, markers in STEPS:
        if all(m in stack for m in markers):
            return name
    return "other (HTTP parsing, routing, event loop)"


def summary(path: Path) -> str:
    samples = read_samples(path)
    total = sum(n for _, _, n in samples) or 1
    steps: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    for stack, leaf, count in samples:
        step = step_of(stack)
        steps[step] += count
        # asyncio's transport, or with native frames the C library's call
        if leaf.startswith(("_SelectorSocketTransport.write", "write (libc")):
            writes[step] += count
    lines = [
        f"{total} samples; share of samples per step (of which inside socket write())",
        "",
        "| step | samples | in write() |",
        "|---|---|---|",
    ]
    for step, count in steps.most_common():
        lines.append(f"| {step} | {100 * count / total:.1f}% | {100 * writes[step] / total:.1f}% |")
    return "\n".join(lines)


async def profile(variant: str, endpoint_name: str, seconds: int, native: bool = False) -> Path:
    from bench import wrk
    from bench.http_bench import ENDPOINTS, load_callers, request_batch
    from bench.servers import AppServer

    database = server.start(migrate=False)  # `make bench` migrated it
    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    endpoint = ENDPOINTS[0 if endpoint_name == "list" else 1]
    app_server = AppServer(variant, database.env(), log_dir)
    output = log_dir / f"profile-{variant}-{endpoint_name}.txt"
    try:
        app_server.wait_ready()
        callers = await load_callers(database.write_url, 200, seed=3)
        rng = random.Random(1)  # noqa: S311 (sampling, not secrets)
        script = wrk.write_script(
            log_dir / f"profile-{endpoint_name}.lua", request_batch(endpoint, callers, 2_000, rng)
        )
        await wrk.run(app_server.port, script, 3)  # warm-up
        load = asyncio.ensure_future(wrk.run(app_server.port, script, seconds + 4))
        spy = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(app_server.process.pid),
            "--format",
            "raw",
            *(["--native"] if native else []),
            "--rate",
            "250",
            "--duration",
            str(seconds),
            "--output",
            str(output),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(spy.wait(), seconds + 30)
        except TimeoutError:
            spy.kill()
            await spy.wait()
        await load
    finally:
        app_server.stop()
    return output


def main() -> int:
    variant = sys.argv[1] if len(sys.argv) > 1 else "rls"
    endpoint = sys.argv[2] if len(sys.argv) > 2 else "fetch"
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    native = sys.argv[4:5] == ["native"]
    try:
        output = asyncio.run(profile(variant, endpoint, seconds, native))
    finally:
        if os.environ.get("BENCH_KEEP_SERVER") != "1":
            server.stop()
    how = ", native frames too" if native else ""
    print(f"## py-spy: {variant}, {endpoint}, {seconds} s under load at concurrency 32{how}\n")
    print(summary(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
