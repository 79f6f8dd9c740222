"""A progress bar on stderr for long commands: redrawn in place on a terminal (at most
ten times a second), one line per finished table elsewhere (logs, tests)."""

from __future__ import annotations

import sys
import time
from typing import IO

WIDTH = 30


class Progress:
    def __init__(self, verb: str, total: int, stream: IO[str] | None = None) -> None:
        self.verb, self.total = verb, max(total, 0)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self._drawn = 0.0
        self._table_started = time.monotonic()

    def advance(self, table: str, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if self.tty and now - self._drawn >= 0.1:
            self._drawn = now
            self.stream.write("\r" + self._bar(table))
            self.stream.flush()

    def table_done(self, table: str, rows: int) -> None:
        now = time.monotonic()
        line = f"{self.verb} {table}: {rows:,} rows ({now - self._table_started:.1f} s)"
        self._table_started = now
        if self.tty:
            self.stream.write("\r" + self._bar(table).ljust(72) + "\r")
        self.stream.write(line.ljust(72 if self.tty else 0) + "\n")
        self.stream.flush()

    def _bar(self, table: str) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * min(share, 1.0))
        bar = "#" * filled + "." * (WIDTH - filled)
        return f"{self.verb} [{bar}] {self.done:,}/{self.total:,} rows ({table})"
