"""The app is served with the same uvicorn options everywhere: `make run` says them
literally, the benchmarks and the tests' real servers take them from refresh.web.process."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from refresh.web.process import UVICORN_OPTIONS

ROOT = Path(__file__).resolve().parents[3]


def test_make_run_serves_with_the_uvicorn_options() -> None:
    run_lines = [
        line for line in (ROOT / "Makefile").read_text().splitlines() if "uvicorn app:app" in line
    ]
    assert run_lines, "make run no longer starts uvicorn app:app"
    for line in run_lines:
        assert " ".join(UVICORN_OPTIONS) in line


def test_the_serving_stack_is_installed() -> None:
    # uvicorn would fail at startup (--loop uvloop) without them, not fall back.
    for module in ("uvloop", "httptools"):
        assert importlib.util.find_spec(module) is not None, module
