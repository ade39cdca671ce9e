"""Geometry of the inline SVG bar charts of time ratios (backend / torch).

Ratios are drawn on a log2 axis from a line at 1x, so that twice as fast and
twice as slow are bars of equal length on either side: left (faster than
torch) in one colour, right (slower) in another. This module computes numbers
only; the template draws them and escapes every label.  The label and value
columns are as wide as their longest text (estimated: ``text_width``), a
label beyond ``MAX_LABEL_W`` abbreviated, so that no text is cut off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Least widths of the label and value columns: each grows to fit its longest text.
LABEL_W = 250
PLOT_W = 440
VALUE_W = 230
#: The label column grows no wider: longer labels are abbreviated with "…",
#: the full text in a ``<title>`` (the bar's tooltip names it too).
MAX_LABEL_W = 480
#: Font size of the chart's labels (the template's ``svg.chart text``), px.
FONT_PX = 12
#: Space between a group's name and the first bar label on its row, and
#: around the label and value columns, px.
PAD = 8
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
    #: ``label`` and ``group`` as drawn: abbreviated with "…" where too long.
    label_text: str = ""
    group_text: str = ""
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


#: Approximate advance widths (in em) of a proportional sans-serif such as
#: Helvetica or DejaVu Sans, on the wide side: the columns are sized from them.
_NARROW = set("ijl|.,:;'!`")
_SEMI = set('ftrI()[]{}- /\\"')
_WIDE = set("mwMW@%")


def text_width(s: str, px: float = FONT_PX, bold: bool = False) -> float:
    """An upper estimate of the width of ``s`` drawn at ``px`` pixels."""
    em = 0.0
    for ch in s:
        if ch in _NARROW:
            em += 0.3
        elif ch in _SEMI or ch == " ":
            em += 0.4
        elif ch in _WIDE:
            em += 0.95
        elif ch.isascii():
            em += 0.75 if ch.isupper() else 0.62
        else:  # ×, µ, ·, arrows, letters of other scripts
            em += 1.0
    return em * px * (1.1 if bold else 1.0)


def fit(s: str, width: float, px: float = FONT_PX, bold: bool = False) -> str:
    """``s``, or as much of it as fits in ``width`` with "…" after it."""
    if text_width(s, px, bold) <= width:
        return s
    while s and text_width(s + "…", px, bold) > width:
        s = s[:-1]
    return s + "…"


def value_text(bar: Bar) -> str:
    """The text right of a bar (the template draws the same)."""
    return bar.value + (" (beyond the axis)" if bar.clipped else "")


def _label_column(bars: list[Bar]) -> int:
    """The label column's width, fitting each row's group name (bold, at the
    left) and bar label (right-aligned against the plot), up to
    ``MAX_LABEL_W``; what still does not fit is abbreviated."""
    need = 0.0
    for bar in bars:
        group = text_width(bar.group, bold=True) + PAD if bar.show_group and bar.group else 0.0
        need = max(need, 4 + group + text_width(bar.label) + PAD)
    label_w = min(max(LABEL_W, math.ceil(need) + 2), MAX_LABEL_W)
    room = label_w - 4 - PAD  # from the group name's x to the label's right end
    for bar in bars:
        bar.group_text = ""
        if bar.show_group and bar.group:
            # the group name keeps at least half the row when both are too long
            label = min(text_width(bar.label), room / 2)
            bar.group_text = fit(bar.group, room - label - PAD, bold=True)
            room_label = room - text_width(bar.group_text, bold=True) - PAD
        else:
            room_label = room
        bar.label_text = fit(bar.label, room_label)
    return label_w


def _tick_label(exp: int) -> str:
    return f"{2**exp:g}×" if exp >= 0 else f"1/{2 ** (-exp):g}×"


def layout(title: str, bars: list[Bar]) -> Chart:
    """Place ``bars`` (grouped by consecutive equal ``group``) on a shared log2 axis."""
    finite = [b.ratio for b in bars if b.ratio > 0 and math.isfinite(b.ratio)]
    lo = max(MIN_RATIO, min([0.5, *finite]))
    hi = min(MAX_RATIO, max([2.0, *finite]))
    lo_exp, hi_exp = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    span = hi_exp - lo_exp

    previous = None
    for bar in bars:
        bar.show_group = bar.group != previous
        previous = bar.group
    label_w = _label_column(bars)

    def x_of(ratio: float) -> float:
        e = min(max(math.log2(ratio), lo_exp), hi_exp)
        return label_w + (e - lo_exp) / span * PLOT_W

    chart = Chart(title, bars, plot_left=label_w, plot_right=label_w + PLOT_W, value_x=label_w + PLOT_W + PAD)
    chart.x_one = x_of(1.0)
    step = 1 if span <= 8 else 2
    chart.ticks = [Tick(x_of(2.0**e), _tick_label(e), e == 0) for e in range(lo_exp, hi_exp + 1) if e % step == 0]
    y = TOP
    previous = None
    for bar in bars:
        if previous is not None and bar.group != previous:
            y += GAP
        previous = bar.group
        bar.y = y
        ratio = bar.ratio if bar.ratio > 0 and math.isfinite(bar.ratio) else 1.0
        bar.clipped = not (2.0**lo_exp <= ratio <= 2.0**hi_exp)
        end = x_of(ratio)
        bar.faster = ratio < 1
        bar.x, bar.width = min(end, chart.x_one), max(abs(end - chart.x_one), 1.5)
        y += ROW_H
    chart.height = y + BOTTOM
    values = max((text_width(value_text(b)) for b in bars), default=0.0)
    chart.width = chart.value_x + max(VALUE_W - PAD, math.ceil(values) + PAD)
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
