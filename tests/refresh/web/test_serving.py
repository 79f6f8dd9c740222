"""The app is served with the same uvicorn options everywhere: `make run` says them
literally, the benchmarks and the tests' real servers take them from refresh.web.process.
And the process's collector after startup: the startup heap frozen, the youngest
generation's threshold raised, garbage cycles still freed without being asked."""

from __future__ import annotations

import gc
import importlib.util
import weakref
from pathlib import Path

from refresh.web.process import (
    UVICORN_OPTIONS,
    YOUNG_GENERATION_THRESHOLD,
    tune_collector_for_serving,
)

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


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_after_startup_the_collector_runs_less_often_and_still_frees_cycles() -> None:
    before = gc.get_threshold()
    try:
        gc.unfreeze()  # as at a process's start (another test may have started the app)
        assert gc.get_freeze_count() == 0
        tune_collector_for_serving()
        assert gc.get_freeze_count() > 0  # the startup heap is out of its reach
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        assert gc.isenabled()
        # A cycle only the collector can free: it is freed once the youngest generation
        # has grown past the threshold, with no gc.collect() from anyone.
        first, second = Node(), Node()
        first.other, second.other = second, first
        freed = weakref.finalize(first, lambda: None)
        del first, second
        alive = []
        for _ in range(2 * YOUNG_GENERATION_THRESHOLD):
            alive.append([])
            if not freed.alive:
                break
        assert not freed.alive
        # ...and not much sooner than the threshold said
        assert len(alive) > YOUNG_GENERATION_THRESHOLD // 2
    finally:
        gc.set_threshold(*before)
