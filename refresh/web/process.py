"""Process-level tuning shared by every server of the project (the app, the benchmarks'
baseline), so that benchmarks compare request paths, not process settings."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move everything built at startup (modules, routes, pydantic models, piccolo-admin's
    FastAPI apps) out of the garbage collector's reach: it lives as long as the process,
    and the collector's full passes would otherwise walk it again and again under load
    (bench/RESULTS.md has the figures from when the admin was mounted)."""
    gc.collect()
    gc.freeze()


#: How uvicorn serves the app wherever it runs (`make run`, the benchmarks, the tests'
#: real servers): uvloop's event loop and httptools' parser, C where uvicorn's defaults
#: are Python (asyncio's loop, h11). About 1.5x the requests per core (bench/RESULTS.md).
UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools")
