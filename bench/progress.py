"""A one-line progress bar on stderr (no dependency): `label [#####.....] 12/40 detail`."""

from __future__ import annotations

import sys
import time

WIDTH = 30


class Progress:
    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.count = 0
        self.started = time.monotonic()
        self._draw("")

    def advance(self, detail: str = "", steps: int = 1) -> None:
        self.count = min(self.total, self.count + steps)
        self._draw(detail)

    def done(self, detail: str = "") -> None:
        self.count = self.total
        self._draw(detail)
        sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self, detail: str) -> None:
        filled = WIDTH * self.count // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        elapsed = time.monotonic() - self.started
        line = f"\r{self.label} [{bar}] {self.count}/{self.total} {detail} ({elapsed:.0f} s)"
        sys.stderr.write(line.ljust(100))
        sys.stderr.flush()
