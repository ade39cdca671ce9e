"""Geometry of the inline SVG bar charts of time ratios (backend / torch).

Ratios are drawn on a log2 axis from a line at 1x, so that twice as fast and
twice as slow are bars of equal length on either side: left (faster than
torch) in one colour, right (slower) in another. This module computes numbers
only; the template draws them and escapes every label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LABEL_W = 250
PLOT_W = 440
VALUE_W = 230
ROW_H = 18
GAP = 6
TOP = 22
BOTTOM = 24
#: Ratios beyond these are drawn clipped at the edge (the label has the value).
MIN_RATIO, MAX_RATIO = 1 / 64, 64.0


@dataclass
class Bar:
    """One bar: ``label`` on the left, ``value`` text on the right."""

    label: str
    ratio: float
    value: str
    tooltip: str
    group: str = ""
    # filled in by ``layout``
    y: float = 0.0
    x: float = 0.0
    width: float = 0.0
    faster: bool = False
    clipped: bool = False
    show_group: bool = False


@dataclass
class Tick:
    x: float
    label: str
    one: bool


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    width: int = LABEL_W + PLOT_W + VALUE_W
    height: float = 0.0
    x_one: float = 0.0
    plot_left: int = LABEL_W
    plot_right: int = LABEL_W + PLOT_W
    value_x: int = LABEL_W + PLOT_W + 8
    ticks: list[Tick] = field(default_factory=list)
    row_h: int = ROW_H


def _tick_label(exp: int) -> str:
    return f"{2**exp:g}×" if exp >= 0 else f"1/{2 ** (-exp):g}×"


def layout(title: str, bars: list[Bar]) -> Chart:
    """Place ``bars`` (grouped by consecutive equal ``group``) on a shared log2 axis."""
    finite = [b.ratio for b in bars if b.ratio > 0 and math.isfinite(b.ratio)]
    lo = max(MIN_RATIO, min([0.5, *finite]))
    hi = min(MAX_RATIO, max([2.0, *finite]))
    lo_exp, hi_exp = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    span = hi_exp - lo_exp

    def x_of(ratio: float) -> float:
        e = min(max(math.log2(ratio), lo_exp), hi_exp)
        return LABEL_W + (e - lo_exp) / span * PLOT_W

    chart = Chart(title, bars)
    chart.x_one = x_of(1.0)
    step = 1 if span <= 8 else 2
    chart.ticks = [Tick(x_of(2.0**e), _tick_label(e), e == 0) for e in range(lo_exp, hi_exp + 1) if e % step == 0]
    y = TOP
    previous = None
    for bar in bars:
        if previous is not None and bar.group != previous:
            y += GAP
        bar.show_group = bar.group != previous
        previous = bar.group
        bar.y = y
        ratio = bar.ratio if bar.ratio > 0 and math.isfinite(bar.ratio) else 1.0
        bar.clipped = not (2.0**lo_exp <= ratio <= 2.0**hi_exp)
        end = x_of(ratio)
        bar.faster = ratio < 1
        bar.x, bar.width = min(end, chart.x_one), max(abs(end - chart.x_one), 1.5)
        y += ROW_H
    chart.height = y + BOTTOM
    return chart


def fmt_seconds(seconds: float) -> str:
    """Seconds as readable text: µs, ms or s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "-"
    return f"{ratio:.2f}×" if ratio < 100 else f"{ratio:.0f}×"
