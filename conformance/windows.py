"""The values around the worst element of a failing case, recorded when it ran.

When a case fails (or errors with outputs to show), the runner calls
``failure_values`` with the outputs it already has in hand: torch's, the
backend's and the exact reference's. This cuts a small window (5 x 5 of the
last two axes) around the worst element of each and formats every value as
display text, so the result record can carry it (key ``"values"``) and the
HTML report only has to draw it: rendering a results file never loads a
backend or runs an op.

Pure NumPy: nothing here imports a backend, torch or the reference.

The returned dict (``FORMAT`` 1) is plain JSON::

    {"format": 1,
     "caption": "around index [0, 0, 2, 3] (last two axes; ...)",
     "legend": "different from torch",      # what a "diff" cell means; "" if none
     "notes": ["..."],
     "grids": [{"title": "expected (torch)", "dtype": "float32", "shape": [1, 1, 4, 6],
                "col_labels": [1, 2, 3, 4, 5],
                "rows": [[0, [{"text": "0.5", "classes": ""}, ...]], ...]}, ...]}

``classes`` is a space-separated subset of ``diff`` (the backend's element is
wrong: see ``legend``) and ``worst`` (the element at the worst index).
"""

from __future__ import annotations

import math
from typing import Any

import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy: np.dtype("bfloat16"))
import numpy as np

from reference.dtypes import is_complex, is_floating

#: Version of the dict ``failure_values`` returns.
FORMAT = 1
#: Half the window's side: a 5 x 5 slice of the last two axes.
HALF = 2
#: Significant digits that tell a case dtype's values apart (for float64 reference values).
DIGITS = {"float16": 5, "bfloat16": 4, "float32": 9, "float64": 17}
#: Which output array is shown under which title.
SIDES = ("torch", "backend", "reference")


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _number(value: Any) -> float | None:
    """A float from a comparison's number (or its JSON text), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _format(value: Any, dtype: str, digits: int | None = None) -> str:
    """Shortest text that tells values of ``dtype`` apart (float64 reference
    values: as many digits as the case's dtype needs)."""
    kind = np.asarray(value).dtype
    if np.issubdtype(kind, np.integer) or kind == np.bool_:
        return str(int(value))
    if np.issubdtype(kind, np.complexfloating):  # each part as a real of the parts' dtype
        part = {"complex64": "float32", "complex128": "float64"}.get(dtype, "float64")
        c = complex(value)
        return f"({_format(c.real, part, digits)}{'+' if not c.imag < 0 else ''}{_format(c.imag, part, digits)}j)"
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if digits is not None:
        return f"{v:.{digits}g}"
    if dtype in ("float16", "bfloat16", "float32"):
        return str(np.dtype(dtype).type(v))
    return repr(v)


def _span(index: int, size: int) -> range:
    """At most ``2 * HALF + 1`` positions of ``size`` around ``index``."""
    start = max(0, min(index - HALF, size - (2 * HALF + 1)))
    return range(start, min(size, start + 2 * HALF + 1))


def _valid_index(index: Any, shape: tuple[int, ...]) -> bool:
    return (
        isinstance(index, (list, tuple))
        and len(index) == len(shape)
        and all(_is_int(i) and 0 <= i < n for i, n in zip(index, shape))
    )


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: not the same value (two NaNs are the same)."""
    wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(b) else np.float64
    a64, b64 = a.astype(wide), b.astype(wide)
    return ~((a64 == b64) | (np.isnan(a64) & np.isnan(b64)))


def _as_tuple(out: Any) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(o) for o in out) if isinstance(out, (tuple, list)) else (np.asarray(out),)


def _as_2d(arr: np.ndarray) -> np.ndarray:
    return arr.reshape(1, 1) if arr.ndim == 0 else (arr.reshape(1, -1) if arr.ndim == 1 else arr)


def _grid(
    title: str,
    arr: np.ndarray,
    index: list[int],
    case_dtype: str,
    marks: np.ndarray | None = None,
    digits: int | None = None,
) -> dict[str, Any]:
    """The window of ``arr`` around ``index`` (clamped into ``arr``'s shape):
    a grid of display texts, ``marks`` (same shape as ``arr``) flagging the
    elements to show as wrong."""
    grid: dict[str, Any] = {"title": title, "dtype": str(arr.dtype), "shape": [int(n) for n in arr.shape]}
    view = _as_2d(arr)
    if view.size == 0:
        return {**grid, "col_labels": [], "rows": []}
    mark_view = marks.reshape(view.shape) if marks is not None else None
    idx = [min(max(int(i), 0), n - 1) for i, n in zip(index[-view.ndim :], view.shape)]
    idx = [0] * (view.ndim - len(idx)) + idx
    lead, (r, c) = tuple(idx[:-2]), idx[-2:]
    cols = _span(c, view.shape[-1])
    rows = []
    for i in _span(r, view.shape[-2]):
        cells = []
        for j in cols:
            at = (*lead, i, j)
            classes = []
            if mark_view is not None and mark_view[at]:
                classes.append("diff")
            if (i, j) == (r, c):
                classes.append("worst")
            cells.append({"text": _format(view[at], case_dtype, digits), "classes": " ".join(classes)})
        rows.append([i, cells])
    return {**grid, "col_labels": list(cols), "rows": rows}


def _marks(main: dict[str, np.ndarray], dtype: str, cmp: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """The backend's elements to show in red, and what red means: beyond the
    recorded bound from the exact reference (floating point: the tolerance
    policy's own test), else different from torch (data movement, uint8, or no
    bound recorded)."""
    got, want, exact = main.get("backend"), main.get("torch"), main.get("reference")
    if got is None:
        return None, ""
    bound = _number(cmp.get("bound"))
    numeric = is_floating(dtype) or is_complex(dtype)
    if numeric and exact is not None and exact.shape == got.shape and bound and bound > 0:
        wide = np.complex128 if is_complex(dtype) else np.float64
        g, e = got.astype(wide), exact.astype(wide)
        with np.errstate(invalid="ignore", over="ignore"):  # beyond float64's range: an infinite error
            err = np.where(_differs(g, e), np.abs(g - e), 0.0)
        return np.where(np.isnan(err), True, err > bound), f"beyond the bound ({bound:.3g}) from the exact value"
    if want is not None and want.shape == got.shape:
        return _differs(got, want), "different from torch"
    return None, ""


def _shown_output(outputs: dict[str, tuple[np.ndarray, ...]]) -> int:
    """Which output to show: the first where the backend differs from torch."""
    torch_out, got = outputs.get("torch"), outputs.get("backend")
    if torch_out is not None and got is not None:
        for k, (g, t) in enumerate(zip(got, torch_out)):
            if g.shape != t.shape or _differs(g, t).any():
                return k
    return 0


def _worst_index(cmp: dict[str, Any], shape: tuple[int, ...], marks: np.ndarray | None) -> list[int]:
    """The comparison's worst index; else the first marked element; else the origin."""
    index = cmp.get("worst_index")
    if _valid_index(index, shape):
        return [int(i) for i in index]
    if marks is not None and marks.any():
        return [int(i) for i in np.unravel_index(int(np.argmax(marks)), marks.shape)]
    return [0] * len(shape)


def _grids(
    main: dict[str, np.ndarray], index: list[int], dtype: str, name: str, marks: np.ndarray | None
) -> list[dict[str, Any]]:
    grids = []
    if "torch" in main:
        grids.append(_grid("expected (torch)", main["torch"], index, dtype))
    if "backend" in main:
        grids.append(_grid(f"actual ({name})", main["backend"], index, dtype, marks))
    if "reference" in main:
        ref = main["reference"]
        digits = DIGITS.get(dtype) if ref.dtype == np.float64 else None
        grids.append(_grid(reference_title(str(ref.dtype), dtype, digits), ref, index, dtype, digits=digits))
    return grids


def reference_title(ref_dtype: str, dtype: str, digits: int | None = None) -> str:
    """The reference grid's title.  The page prints the grid's dtype and shape
    after it (``reference (exact) float64 [1, 1, 2, 4]``), so the title names
    no dtype of its own: the float64 reference of a float16 or float32 case is
    shown to that dtype's significant digits, and data movement's reference
    is the exact result in the case's own dtype."""
    if ref_dtype == "float64" and dtype != "float64" and digits:
        return f"reference (exact, to {digits} significant digits)"
    return "reference (exact)"


def _values(dtype: str, outputs: dict[str, tuple[np.ndarray, ...]], cmp: dict[str, Any], name: str) -> dict[str, Any]:
    outputs = {side: _as_tuple(outputs[side]) for side in SIDES if outputs.get(side) is not None}
    outputs = {side: out for side, out in outputs.items() if out}
    if not outputs:
        return {"format": FORMAT, "caption": "", "grids": [], "notes": ["no outputs were recorded"], "legend": ""}
    count = max(len(o) for o in outputs.values())
    k = _shown_output(outputs)
    main = {side: out[k] for side, out in outputs.items() if k < len(out)}
    base = main.get("torch", main.get("reference", next(iter(main.values()))))
    marks, legend = _marks(main, dtype, cmp)
    notes = []
    if marks is not None and not marks.any():
        notes.append(f"no element of the backend's output {k} is {legend}")
    index = _worst_index(cmp, tuple(base.shape), marks)
    which = f"output {k} of {count}, " if count > 1 else ""
    caption = (
        f"{which}around index {index} (last two axes; rows and columns numbered); values recorded when the case ran"
    )
    return {
        "format": FORMAT,
        "caption": caption,
        "grids": _grids(main, index, dtype, name, marks),
        "notes": notes,
        "legend": legend if marks is not None else "",
    }


def failure_values(
    dtype: str,
    outputs: dict[str, tuple[np.ndarray, ...]],
    comparison: dict[str, Any] | None,
    backend_name: str,
) -> dict[str, Any]:
    """The values around the worst element of a failing case, as a small
    JSON-able dict (see the module docstring) for the result record's
    ``"values"``.

    ``dtype``: the case's dtype. ``outputs``: any of ``"torch"``, ``"backend"``
    and ``"reference"`` (float64 where the op computes), each a tuple of
    output arrays (max_pool: values, indices). ``comparison``: the case's
    comparison (``Comparison.to_json()``; its ``worst_index`` and ``bound``
    place the window and mark the wrong elements), or ``None``.
    ``backend_name``: titles the backend's grid.

    Never raises: a problem becomes the returned dict's only note.
    """
    if comparison is not None and not isinstance(comparison, dict) and hasattr(comparison, "to_json"):
        comparison = comparison.to_json()
    cmp = comparison if isinstance(comparison, dict) else {}
    try:
        return _values(str(dtype), dict(outputs or {}), cmp, str(backend_name))
    except Exception as exc:  # a failing case must still be recorded
        lines = str(exc).strip().splitlines()
        why = f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
        return {"format": FORMAT, "caption": "", "grids": [], "notes": [f"values not recorded: {why}"], "legend": ""}
