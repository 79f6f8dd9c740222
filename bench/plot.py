"""A small SVG line chart for the cost curve (bench/curve.svg), written as text.

Hand-written rather than matplotlib: two panels of a few lines each do not justify a
plotting library (and its NumPy) in every install of the project; the SVG is plain
enough to review in a diff.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PANEL_WIDTH, PANEL_HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 45, 40, 110  # margins inside a panel: axis labels, legend


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str  # of the y axis
    x_labels: Sequence[str]  # one per point, equally spaced (the sizes grow tenfold)
    series: Mapping[str, Sequence[float]]  # legend -> one value per x label


def _ticks(top: float) -> list[float]:
    """About five round values from 0 to at least `top`."""
    raw = top / 5 if top > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = int(top // step) + 2
    return [round(i * step, 6) for i in range(count)]


def _panel(panel: Panel, x0: int) -> list[str]:
    top = max((v for values in panel.series.values() for v in values), default=1.0)
    ticks = _ticks(top)
    y_max = ticks[-1]
    plot_w = PANEL_WIDTH - LEFT - RIGHT
    plot_h = PANEL_HEIGHT - TOP - BOTTOM
    points = len(panel.x_labels)

    def x(i: int) -> float:
        return x0 + LEFT + (plot_w * i / (points - 1) if points > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    out = [
        f'<text x="{x0 + PANEL_WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">'
        f"{escape(panel.title)}</text>",
        f'<text x="{x0 + 12}" y="{TOP + plot_h / 2}" transform="rotate(-90 {x0 + 12} '
        f'{TOP + plot_h / 2})" text-anchor="middle">{escape(panel.unit)}</text>',
    ]
    for tick in ticks:
        out.append(
            f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + plot_w}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{x0 + LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    for i, label in enumerate(panel.x_labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for n, (name, values) in enumerate(panel.series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.extend(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>'
            for i, v in enumerate(values)
        )
        legend_y = TOP + plot_h + 40 + 16 * n
        out.append(
            f'<rect x="{x0 + LEFT}" y="{legend_y - 9}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{x0 + LEFT + 18}" y="{legend_y}">{escape(name)}</text>'
        )
    return out


def svg(panels: Sequence[Panel]) -> str:
    width = PANEL_WIDTH * len(panels)
    body = [line for i, panel in enumerate(panels) for line in _panel(panel, i * PANEL_WIDTH)]
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{PANEL_HEIGHT}" '
            f'viewBox="0 0 {width} {PANEL_HEIGHT}" font-family="sans-serif" font-size="11">',
            f'<rect width="{width}" height="{PANEL_HEIGHT}" fill="white"/>',
            *body,
            "</svg>",
            "",
        ]
    )
