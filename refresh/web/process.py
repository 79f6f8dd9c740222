"""Process-level tuning shared by every server of the project (the app, the benchmarks'
baseline), so that benchmarks compare request paths, not process settings."""

from __future__ import annotations

import gc

#: How many more container objects may be alive than at the last collection before the
#: collector runs again (CPython's default: 700). Under load, the objects of the
#: requests in flight alone pass 700, so with the default the collector runs many times
#: a second, walking objects that will be freed a moment later when their request ends,
#: and moving them to the older generations, whose passes are longer. At 50,000 a
#: worker collects a few times a second, and what it walks is mostly real garbage
#: cycles; they wait at most that many objects (a few MB) longer to be freed.
#: bench/NOTES.md, "The garbage collector under load", has the before and after.
YOUNG_GENERATION_THRESHOLD = 50_000


def tune_collector_for_serving() -> None:
    """Move everything built at startup (modules, routes, pydantic models, piccolo-admin's
    FastAPI apps) out of the garbage collector's reach: it lives as long as the process,
    and the collector's full passes would otherwise walk it again and again under load
    (bench/RESULTS.md has the figures from when the admin was mounted). Then let the
    youngest generation grow to YOUNG_GENERATION_THRESHOLD before a collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


#: How uvicorn serves the app wherever it runs (`make run`, the benchmarks, the tests'
#: real servers): uvloop's event loop and httptools' parser, C where uvicorn's defaults
#: are Python (asyncio's loop, h11). About 1.5x the requests per core (bench/RESULTS.md).
UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools")
