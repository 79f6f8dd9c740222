"""uvicorn subprocesses on 127.0.0.1, one per variant, and their peak memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psutil

from bench.server import ROOT
from refresh.web.process import UVICORN_OPTIONS

VARIANTS = {
    "rls": "app:app",  # (a) the real app: RLS middleware, request transaction
    "baseline": "bench.baseline_app:app",  # (b) write client + explicit tenant filter
    "floor": "bench.floor_app:app",  # (d) the same responses and security, nothing else
    "admin": "app:app",  # the real app again, for the admin benchmark (its own log file)
    "option": "app:app",  # the real app with one setting changed (bench/options.py)
}
# Every variant is served as `make run` serves the app. BENCH_UVICORN_DEFAULTS=1 serves
# (a) and (b) with uvicorn's defaults instead (asyncio, h11), for before/after figures.
SERVING = UVICORN_OPTIONS


def serving(variant: str) -> tuple[str, ...]:
    defaults = os.environ.get("BENCH_UVICORN_DEFAULTS") == "1" and variant != "floor"
    return () if defaults else SERVING


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class AppServer:
    """One uvicorn process (one worker: the process itself serves the requests)."""

    def __init__(
        self, variant: str, env: dict[str, str], log_dir: Path, extra_args: Sequence[str] = ()
    ) -> None:
        self.variant = variant
        self.port = free_port()
        self.log_path = log_dir / f"uvicorn-{variant}.log"
        uvicorn = Path(sys.executable).parent / "uvicorn"
        command = [
            str(uvicorn),
            VARIANTS[variant],
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
            *serving(variant),
            *extra_args,
        ]
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603 (this virtualenv's uvicorn, fixed arguments)
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._ps = psutil.Process(self.process.pid)
        self.sampled_peak_rss = 0

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.variant} server exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.variant} server not ready after {timeout_s} s")

    def sample_rss(self) -> None:
        self.sampled_peak_rss = max(self.sampled_peak_rss, self._ps.memory_info().rss)

    def peak_rss_bytes(self) -> int:
        """The kernel's high-water mark of the process's resident set (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return self.sampled_peak_rss

    def cpu_seconds(self) -> float:
        times = self._ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def postgres_cpu_seconds(data_dir: Path) -> dict[int, float]:
    """CPU time of every process of the bench PostgreSQL (its backends do the SQL work)."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    out = {}
    for process in [psutil.Process(pid), *psutil.Process(pid).children()]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[process.pid] = float(times.user + times.system)
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
