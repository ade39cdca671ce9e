"""Values around the worst spot of a failing case, as its result record holds them.

The runner records them when the case fails (``conformance.windows``: the
record's ``"values"``, a small dict of display texts); this module only reads
that dict back into the ``Window`` the template draws. Rendering never loads
a backend, runs an op or rebuilds a case: a results file is data, not code.

Anything in a record may be malformed: ``window_from_json`` never raises, and
what it cannot read becomes a note of the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A record's values from an older harness, which recorded none.
NOT_RECORDED = "values were not recorded in this results file (written by an older harness): run the repro to see them"
#: A record whose run had no outputs to show (the case crashed, or raised on every side).
NONE_RECORDED = "no values were recorded for this case: run the repro to see them"
#: Limits on what a record's values may make the page draw.
MAX_GRIDS = 6
MAX_SIDE = 16
MAX_TEXT = 80
MAX_NOTES = 10
_CLASSES = ("diff", "worst")
#: The reference grid's title in files from an older harness, which claimed
#: float64 whatever the grid's dtype (data movement: the case's own); the
#: page prints the grid's dtype beside the title (``conformance.windows.reference_title``).
_OLD_REFERENCE_TITLE = ("reference (exact, float64)", "reference (exact)")


@dataclass
class GridCell:
    text: str
    classes: str = ""


@dataclass
class Grid:
    """A labelled 2-D window of one output."""

    title: str
    dtype: str
    shape: list[int]
    col_labels: list[int]
    rows: list[tuple[int, list[GridCell]]]


@dataclass
class Window:
    """What the page shows for one failing case: grids side by side, or notes."""

    caption: str = ""
    grids: list[Grid] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What a red element of the backend's grid means.
    legend: str = ""


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return ("" if value is None else str(value))[:limit]


def _ints(values: Any) -> list[int]:
    if not isinstance(values, list):
        raise ValueError("expected a list of integers")
    out = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(out) != len(values):
        raise ValueError("expected a list of integers")
    return out


def _cell(data: Any) -> GridCell:
    if isinstance(data, dict):
        text, classes = data.get("text"), data.get("classes")
    else:
        text, classes = data, ""
    wanted = _text(classes).split() if isinstance(classes, str) else []
    return GridCell(_text(text), " ".join(c for c in _CLASSES if c in wanted))


def _row(data: Any) -> tuple[int, list[GridCell]]:
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], list)):
        raise ValueError("a row is not [index, cells]")
    (index,) = _ints([data[0]])
    return index, [_cell(c) for c in data[1][:MAX_SIDE]]


def _grid(data: Any) -> Grid:
    if not isinstance(data, dict):
        raise ValueError("a grid is not an object")
    rows = data.get("rows", [])
    if not isinstance(rows, list):
        raise ValueError("a grid's rows are not a list")
    title = _text(data.get("title"), 200)
    return Grid(
        _OLD_REFERENCE_TITLE[1] if title == _OLD_REFERENCE_TITLE[0] else title,
        _text(data.get("dtype")),
        _ints(data.get("shape", []))[:MAX_SIDE],
        _ints(data.get("col_labels", []))[:MAX_SIDE],
        [_row(r) for r in rows[:MAX_SIDE]],
    )


def _read(data: Any) -> Window:
    if data is None:
        return Window(notes=[NONE_RECORDED])
    if not isinstance(data, dict):
        raise ValueError("the values are not an object")
    grids, notes = data.get("grids", []), data.get("notes", [])
    if not isinstance(grids, list) or not isinstance(notes, list):
        raise ValueError("grids or notes are not a list")
    return Window(
        caption=_text(data.get("caption"), 500),
        grids=[_grid(g) for g in grids[:MAX_GRIDS]],
        notes=[_text(n, 500) for n in notes[:MAX_NOTES]],
        legend=_text(data.get("legend"), 200),
    )


def window_from_json(data: Any) -> Window:
    """The window a record's ``"values"`` (see ``conformance.windows``)
    describe. Never raises: ``None`` (nothing recorded) or anything malformed
    becomes a window with a note."""
    try:
        return _read(data)
    except Exception as exc:  # rendering must not crash on any record
        return Window(notes=[f"the recorded values cannot be shown: {_text(exc, 200)}"])


def record_window(record: dict[str, Any]) -> Window:
    """The window of a failing result record: its recorded values, or a note
    saying none were recorded (the worker died) or an older harness recorded none."""
    if "values" not in record:
        died = record.get("isolation")  # the worker crashed or hung: there were no outputs
        return Window(notes=[NONE_RECORDED if died else NOT_RECORDED])
    return window_from_json(record.get("values"))
