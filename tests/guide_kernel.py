"""The Python process that runs the guide's examples (tests/test_database_guide.py).

It plays a developer's `python -m asyncio` session in the project root: top-level await,
one event loop, the project's modules importable from the current directory. It reads
one JSON request per line on stdin and answers one JSON line on stdout:

    {"op": "section"}                         a fresh namespace (a copy of the prelude's)
    {"op": "prelude", "code", "line"}         run once; every later namespace starts from it
    {"op": "run", "code", "line"}             run in the current namespace
    -> {"stdout": "what the code printed", "error": "traceback" | null}

A separate process, not the test process: the examples need the project's engines bound
to the guide's own database, and a section that breaks something breaks only this.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib
import inspect
import io
import json
import os
import sys
import traceback
from typing import Any

GUIDE = "docs/database-guide.md"


async def execute(code: str, line: int, namespace: dict[str, Any]) -> str | None:
    """Run `code` (which starts at `line` of the guide); the traceback on failure."""
    # Modules the guide writes while the session runs (a new app) must be importable.
    importlib.invalidate_caches()
    try:
        compiled = compile(
            "\n" * (line - 1) + code, GUIDE, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        )
        result = eval(compiled, namespace)  # the guide's own examples
        if inspect.iscoroutine(result):
            await result
    except BaseException:  # report anything, including SystemExit from a CLI function
        return traceback.format_exc()
    return None


async def serve(requests: io.TextIOBase, answers: io.TextIOBase) -> None:
    base: dict[str, Any] = {"__name__": "__main__"}
    namespace = dict(base)
    for raw in iter(requests.readline, ""):
        request = json.loads(raw)
        captured = io.StringIO()
        error = None
        if request["op"] == "section":
            namespace = dict(base)
            # A fresh session imports the composition modules again: the guide changes
            # them (a new app in piccolo_conf.py, its routes in app.py).
            for module in ("app", "piccolo_conf"):
                sys.modules.pop(module, None)
        else:
            target = base if request["op"] == "prelude" else namespace
            with contextlib.redirect_stdout(captured):
                error = await execute(request["code"], request["line"], target)
            if request["op"] == "prelude":
                namespace.update(base)
        answers.write(json.dumps({"stdout": captured.getvalue(), "error": error}) + "\n")
        answers.flush()


def main() -> None:
    # Import the project from the working directory (the guide's copy), not from tests/.
    sys.path[0] = os.getcwd()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # stray output of the examples must not corrupt the protocol
    asyncio.run(serve(sys.stdin, answers))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
