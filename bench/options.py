"""What one option of the request path costs: the real app as configured by default (a)
against the same app with one setting changed, under wrk, side by side in one run.

    python -m bench.options [REPS] [SECONDS] [WARMUP_SECONDS]

Defaults 3 x 5 s after 3 s. Needs the bench data (`make bench` or `BENCH_QUICK=1 make
bench` once). The options: the membership check of every request (MEMBERSHIP_CHECK, one
indexed lookup in `auth.begin_request`), the verified-token cache (JWT_CACHE_SIZE), and
the request log written as `make serve` writes it. BENCH_OPTION=TEXT measures only the
options whose name contains TEXT (e.g. BENCH_OPTION="request log"). Prints one table;
bench/NOTES.md keeps the figures of record.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from bench import server
from refresh.web.logconfig import logging_config

REQUEST_LOG = "request log on: one JSON line per request to stdout, as `make serve`"

OPTIONS: dict[str, dict[str, str]] = {
    # A/A: the same app in a second process, to see what a second server alone changes
    "nothing changed (control)": {},
    "membership check off (MEMBERSHIP_CHECK=false)": {"MEMBERSHIP_CHECK": "false"},
    "JWT cache off (JWT_CACHE_SIZE=0)": {"JWT_CACHE_SIZE": "0"},
    # The bench serves without a logging configuration, so the request log's INFO lines
    # are dropped unformatted; `make serve` writes each as a JSON line to stdout.
    REQUEST_LOG: {},
}


def uvicorn_args(option: str, log_dir: Path) -> list[str]:
    """The request log as `make serve` configures it (refresh/web/logconfig.py)."""
    if option != REQUEST_LOG:
        return []
    config = log_dir / "log-config.json"
    config.write_text(json.dumps(logging_config("INFO")))
    return ["--log-config", str(config)]


async def measure(reps: int, seconds: float, warmup: float) -> str:
    from bench import http_bench, wrk
    from bench.http_bench import VariantLoad, measured_load
    from bench.servers import AppServer
    from bench.stats import Spread, median, ratios

    database = server.start(migrate=False)
    log_dir = server.ROOT / ".data" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    callers = await http_bench.load_callers(database.write_url, 200, seed=3)
    rng = random.Random(11)  # noqa: S311 (sampling, not secrets)
    lines = [
        "| option | endpoint | (a) default | option | option/(a) req/s median [p25-p75] "
        "| app CPU/request (a) vs option | PostgreSQL CPU/request (a) vs option |",
        "|---|---|---|---|---|---|---|",
    ]
    default = AppServer("rls", database.env(), log_dir)
    try:
        default.wait_ready()
        wanted = os.environ.get("BENCH_OPTION", "")  # a part of an option's name: only those
        if not any(wanted in option for option in OPTIONS):
            raise SystemExit(f"BENCH_OPTION={wanted!r} names no option of {list(OPTIONS)}")
        for option, env in OPTIONS.items():
            if wanted not in option:
                continue
            changed = AppServer(
                "option", {**database.env(), **env}, log_dir, uvicorn_args(option, log_dir)
            )
            try:
                changed.wait_ready()
                for endpoint in http_bench.ENDPOINTS:
                    batch = http_bench.request_batch(endpoint, callers, 2_000, rng)
                    script = wrk.write_script(log_dir / "options.lua", batch)
                    loads = {"a": VariantLoad(), "option": VariantLoad()}
                    pair = {"a": default, "option": changed}
                    for one in pair.values():
                        await measured_load(one, script, warmup)
                    for rep in range(reps):
                        for name in ("a", "option") if rep % 2 == 0 else ("option", "a"):
                            loads[name].add(*await measured_load(pair[name], script, seconds))
                    a, o = loads["a"], loads["option"]
                    lines.append(
                        f"| {option} | `{endpoint.name}` | {median(a.throughputs):,.0f} req/s "
                        f"| {median(o.throughputs):,.0f} req/s "
                        f"| {Spread.of(ratios(o.throughputs, a.throughputs)).text()} "
                        f"| {median(a.app_cpu_ms):.2f} vs {median(o.app_cpu_ms):.2f} ms "
                        f"| {median(a.db_cpu_ms):.2f} vs {median(o.db_cpu_ms):.2f} ms |"
                    )
            finally:
                changed.stop()
    finally:
        default.stop()
    title = (
        f"wrk -t2 -c32, {reps} x {seconds:g} s after {warmup:g} s per server and endpoint, "
        f"alternating; load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    return title + "\n\n" + "\n".join(lines)


def main() -> int:
    from bench.throughput import cli

    return cli(measure)


if __name__ == "__main__":
    sys.exit(main())
