"""The real `piccolo` console script, run in a child forked from an interpreter that has
already imported the third-party libraries the CLI loads (Piccolo, black, asyncpg,
pydantic, ...).

Why: the suites run the CLI about 500 times each, and most of a cold start is importing
those libraries (README, "Tests"). The child runs the console script file itself (`runpy`,
as `python SCRIPT` does), with the call's own argv, environment (PYTHONPATH too) and working
directory (stdin empty), so the output, the exit status and the warnings' file:line are the cold
CLI's. Nothing of the project is imported before the fork: its modules read the settings
from the environment on import, and each call has its own. A call that needs a fresh
interpreter (a cold start, its memory measured, a terminal) still runs `subprocess`.

The server reads one JSON request per line on its stdin and answers on the pipe it was
given, one call at a time: calls from several threads wait for each other, so a test of
concurrent CLI runs must start its own processes. A call past its time limit is killed
(SIGALRM: exit status -14, where `subprocess.run` would raise TimeoutExpired). What an
interpreter fixes at its start (the hash seed, PYTHONWARNINGS, -X options) is the
server's: no test sets them for a call.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, NoReturn

# What a cold `piccolo` imports before it reads piccolo_conf (python -X importtime)
PRELOADED = (
    "piccolo.main",
    "piccolo.apps.migrations.auto.migration_manager",
    "piccolo.apps.migrations.commands.new",
    "piccolo.apps.migrations.commands.forwards",
    "piccolo.apps.migrations.commands.backwards",
    "piccolo_admin.endpoints",
    "asyncpg",
    "black",
    "sqlparse",
    "pydantic",
    "pydantic_settings",
    "jwt",
    "targ",
)
TIMEOUT_SECONDS = 120


def _serve(script: str, answer_fd: int) -> None:  # pragma: no cover - runs in the server process
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    # sys.path as a cold start builds it is [script dir, *PYTHONPATH, *the rest]; the
    # interpreter read this server's PYTHONPATH, so each child puts its call's own
    own = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    rest = [p for p in sys.path[1:] if p not in own]
    answers = os.fdopen(answer_fd, "w")
    for line in sys.stdin:
        request = json.loads(line)
        # not TemporaryDirectory: its finalizer would run in the child's atexit below
        scratch = tempfile.mkdtemp(prefix="warm-cli-")
        try:
            paths = {"in": os.devnull, "out": f"{scratch}/out", "err": f"{scratch}/err"}
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                answers.close()
                _run_in_child(script, request, paths, rest)
            _, status = os.waitpid(pid, 0)
            answer = {
                "returncode": os.waitstatus_to_exitcode(status),
                "stdout": Path(paths["out"]).read_text(errors="replace"),
                "stderr": Path(paths["err"]).read_text(errors="replace"),
            }
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def _run_in_child(
    script: str, request: dict[str, Any], paths: dict[str, str], rest: list[str]
) -> NoReturn:
    import runpy
    import signal

    code: Any = 1
    try:
        for fd, name, mode in (
            (0, "in", os.O_RDONLY),
            (1, "out", os.O_WRONLY | os.O_CREAT),
            (2, "err", os.O_WRONLY | os.O_CREAT),
        ):
            os.dup2(os.open(paths[name], mode), fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = [script, *request["args"]]
        given = request["env"].get("PYTHONPATH", "").split(os.pathsep)
        sys.path[:] = [os.path.dirname(script), *(os.path.abspath(p) for p in given if p), *rest]
        tempfile.tempdir = None  # the server's mkdtemp cached its own TMPDIR
        signal.alarm(TIMEOUT_SECONDS)
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as stop:
            code = stop.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        atexit._run_exitfuncs()  # as an interpreter's exit would; os._exit skips them
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code or 0)  # never back into the server's loop


class WarmCli:
    """One server per test process, started at the first call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: subprocess.Popen[str] | None = None
        self._answers: Any = None

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        self._server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                str(Path(sys.executable).parent / "piccolo"),
                str(write_end),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(write_end,),
            text=True,
        )
        os.close(write_end)
        self._answers = os.fdopen(read_end)
        atexit.register(self.stop)

    def run(
        self, args: list[str], cwd: Path, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                self._start()
            assert self._server is not None and self._server.stdin is not None
            request = {"args": args, "cwd": str(cwd), "env": env}
            try:
                self._server.stdin.write(json.dumps(request) + "\n")
                self._server.stdin.flush()
                line = self._answers.readline()
                if not line:
                    raise RuntimeError("the warm piccolo server stopped")
            except BaseException:
                # an answer left in the pipe would be read as the next call's
                self._server.kill()
                self._server.wait()
                self._server = None
                self._answers.close()
                raise
        answer = json.loads(line)
        return subprocess.CompletedProcess(
            ["piccolo", *args], answer["returncode"], answer["stdout"], answer["stderr"]
        )

    def stop(self) -> None:
        if self._server is not None and self._server.poll() is None:
            assert self._server.stdin is not None
            self._server.stdin.close()
            self._server.wait(timeout=10)


warm_cli = WarmCli()

if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
