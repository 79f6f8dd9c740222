"""Medians, percentiles and the spread of per-repetition ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of per-repetition values (usually ratios)."""

    median: float
    p25: float
    p75: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(median(values), percentile(values, 25), percentile(values, 75), len(values))

    def text(self, digits: int = 2) -> str:
        if self.median >= 100:
            return f"{self.median:,.0f}x [{self.p25:,.0f}-{self.p75:,.0f}]"
        return f"{self.median:.{digits}f} [{self.p25:.{digits}f}-{self.p75:.{digits}f}]"


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d > 0]
