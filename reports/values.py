"""Values around the worst spot of a failing case, rebuilt at render time.

The results store keeps no arrays, only the case (enough to rebuild its
input). To show a person *what* differs, the report rebuilds the input, runs
the op on torch, on the backend (loaded from the spec its run recorded) and on
the float64 reference, and cuts a small window of the last two axes around
the worst index. All of it is best effort: a backend that cannot be loaded
here, is unavailable, or raises is reported as such, and nothing raised here
stops the page from rendering.

A results file is data, not code: before anything is built from a case its
JSON is checked against the shapes the harness writes (``Case.materialize``
executes NumPy statements formatted from those fields), and ops are looked up
only among the protocol's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Half the window's side: a 5 x 5 slice of the last two axes.
HALF = 2
#: Inputs larger than this are not rebuilt (a report should render quickly).
MAX_ELEMENTS = 4_000_000
_POOL_KEYS = {"kernel_size", "stride", "padding", "dilation", "ceil_mode"}
_DIGITS = {"float16": 5, "float32": 9, "float64": 17}


class UnsafeCase(ValueError):
    """A case whose JSON is not what the harness writes: it is not rebuilt."""


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


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_ints(values: Any, what: str) -> None:
    if not isinstance(values, list) or not all(_is_int(v) and v >= 0 for v in values):
        raise UnsafeCase(f"{what} is not a list of non-negative integers")


def _check_array(spec: Any) -> int:
    from backends import DTYPES
    from conformance.cases import DISTRIBUTIONS, LAYOUTS

    if not isinstance(spec, dict) or spec.get("kind", "array") != "array":
        raise UnsafeCase("an input is not an array spec")
    _check_ints(spec.get("shape"), "shape")
    if spec.get("dtype") not in DTYPES:
        raise UnsafeCase("unknown dtype")
    if spec.get("distribution") not in DISTRIBUTIONS or spec.get("layout") not in LAYOUTS:
        raise UnsafeCase("unknown distribution or layout")
    if not _is_int(spec.get("seed")):
        raise UnsafeCase("seed is not an integer")
    return int(np.prod(spec["shape"]))


def check_case_json(data: Any) -> None:
    """Raise ``UnsafeCase`` unless ``data`` has the form ``Case.to_json`` writes."""
    from backends import OPS

    if not isinstance(data, dict) or data.get("op") not in OPS:
        raise UnsafeCase("unknown op")
    if not isinstance(data.get("params"), dict) or not all(
        isinstance(k, str) and k.isidentifier() for k in data["params"]
    ):
        raise UnsafeCase("params are not keyword arguments")
    size = _check_array(data.get("input"))
    operands = data.get("operands", [])
    if not isinstance(operands, list):
        raise UnsafeCase("operands are not a list")
    for item in operands:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in ("weight", "bias", "indices")):
            raise UnsafeCase("unknown operand")
        spec = item[1]
        kind = spec.get("kind", "array") if isinstance(spec, dict) else None
        if kind == "array":
            size += _check_array(spec)
        elif kind == "pooled_indices":
            size += _check_array(spec.get("source"))
            pool = spec.get("pool")
            if not isinstance(pool, list) or not all(
                isinstance(p, list) and len(p) == 2 and p[0] in _POOL_KEYS for p in pool
            ):
                raise UnsafeCase("unknown pooling argument")
        elif kind == "unique_indices":
            _check_ints(spec.get("shape"), "indices shape")
            if not all(_is_int(spec.get(k)) for k in ("plane", "rank", "seed")):
                raise UnsafeCase("indices plane, rank or seed is not an integer")
            size += int(np.prod(spec["shape"])) + int(spec["plane"])
        else:
            raise UnsafeCase("unknown operand kind")
    if size > MAX_ELEMENTS:
        raise UnsafeCase(f"its arrays hold {size} elements, more than the report rebuilds ({MAX_ELEMENTS})")


def _describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]


def _run(backend: Any, op: str, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    args = {name: backend.from_numpy(a.copy()) for name, a in arrays.items()}
    x = args.pop("x")
    out = getattr(backend, op)(x, **args, **params)
    backend.synchronize()
    outs = out if isinstance(out, tuple) else (out,)
    return tuple(np.asarray(backend.to_numpy(o)) for o in outs)


def _run_reference(op: str, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    import reference

    inputs = {name: a.copy() for name, a in arrays.items()}
    out = getattr(reference, op)(inputs.pop("x"), **inputs, **params)
    return tuple(np.asarray(o) for o in (out if isinstance(out, tuple) else (out,)))


def _format(value: Any, dtype: str, digits: int | None = None) -> str:
    """Shortest text that tells values of ``dtype`` apart (float64 reference
    values: as many digits as the case's dtype needs)."""
    if np.issubdtype(np.asarray(value).dtype, np.integer) or np.asarray(value).dtype == np.bool_:
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if digits is not None:
        return f"{v:.{digits}g}"
    if dtype in ("float16", "float32"):
        return str(np.dtype(dtype).type(v))
    return repr(v)


def _span(index: int, size: int) -> range:
    start = max(0, min(index - HALF, size - (2 * HALF + 1)))
    return range(start, min(size, start + 2 * HALF + 1))


def _valid_index(index: Any, shape: tuple[int, ...]) -> bool:
    return (
        isinstance(index, list)
        and len(index) == len(shape)
        and all(_is_int(i) and 0 <= i < n for i, n in zip(index, shape))
    )


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return ~((a64 == b64) | (np.isnan(a64) & np.isnan(b64)))


def _grid(
    title: str, arr: np.ndarray, index: list[int], case_dtype: str, marks: np.ndarray | None, digits: int | None
) -> Grid:
    """The window of ``arr`` around ``index`` (clamped into ``arr``'s shape)."""
    shape = tuple(arr.shape)
    view = arr.reshape(1, 1) if arr.ndim == 0 else (arr.reshape(1, -1) if arr.ndim == 1 else arr)
    mark_view = None
    if marks is not None:
        mark_view = marks.reshape(view.shape)
    idx = [min(max(i, 0), n - 1) for i, n in zip(index[-view.ndim :], view.shape)] if view.size else []
    if view.size == 0:
        return Grid(title, str(arr.dtype), list(shape), [], [])
    if len(idx) < view.ndim:
        idx = [0] * (view.ndim - len(idx)) + idx
    lead, (r, c) = tuple(idx[:-2]), idx[-2:]
    rows_range, cols_range = _span(r, view.shape[-2]), _span(c, view.shape[-1])
    rows = []
    for i in rows_range:
        cells = []
        for j in cols_range:
            at = (*lead, i, j)
            classes = []
            if mark_view is not None and mark_view[at]:
                classes.append("diff")
            if i == r and j == c:
                classes.append("worst")
            cells.append(GridCell(_format(view[at], case_dtype, digits), " ".join(classes)))
        rows.append((i, cells))
    return Grid(title, str(arr.dtype), list(shape), list(cols_range), rows)


def _marks(main: dict[str, np.ndarray], dtype: str, cmp: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """The backend's elements to show in red, and what red means: beyond the
    recorded bound from the exact reference (floating point: the tolerance
    policy's own test), else different from torch (data movement, uint8, or no
    bound recorded)."""
    got, want, exact = main.get("backend"), main.get("torch"), main.get("reference")
    if got is None:
        return None, ""
    bound = cmp.get("bound") if cmp else None
    if (
        dtype.startswith("float")
        and exact is not None
        and exact.shape == got.shape
        and isinstance(bound, (int, float))
        and not isinstance(bound, bool)
        and bound > 0
    ):
        g, e = got.astype(np.float64), exact.astype(np.float64)
        with np.errstate(invalid="ignore"):
            err = np.where(_differs(g, e), np.abs(g - e), 0.0)
        return np.where(np.isnan(err), True, err > bound), f"beyond the bound ({bound:.3g}) from the exact value"
    if want is not None and want.shape == got.shape:
        return _differs(got, want), "different from torch"
    return None, ""


class Rebuilder:
    """Rebuilds failing cases, loading torch and each backend spec once."""

    def __init__(self, loader: Callable[[str], Any] | None = None) -> None:
        if loader is None:
            from backends import load as loader
        self._loader = loader
        self._loaded: dict[str, tuple[Any, str]] = {}

    def backend(self, spec: str) -> tuple[Any, str]:
        """``(backend, "")`` or ``(None, why it cannot run here)``."""
        if spec not in self._loaded:
            try:
                backend = self._loader(spec)
                ok, why = backend.availability()
                self._loaded[spec] = (backend, "") if ok else (None, f"not available here: {why}")
            except Exception as exc:
                self._loaded[spec] = (None, f"cannot be loaded here: {_describe(exc)}")
        return self._loaded[spec]

    def window(self, record: dict[str, Any], spec: str | None) -> Window:
        """Never raises: problems become notes of the returned window."""
        try:
            return self._window(record, spec)
        except Exception as exc:  # rendering must not crash on any record
            return Window(notes=[f"values could not be rebuilt: {_describe(exc)}"])

    def _window(self, record: dict[str, Any], spec: str | None) -> Window:
        from conformance.cases import Case

        if record.get("direction", "forward") != "forward":
            return Window(notes=["values are shown for forward cases only: for a gradient case, run the repro"])
        try:
            check_case_json(record.get("case"))
        except UnsafeCase as exc:
            return Window(notes=[f"values not rebuilt: the case is not rebuilt here ({exc})"])
        case = Case.from_json(record["case"])
        arrays = case.materialize()
        notes: list[str] = []
        outputs: dict[str, tuple[np.ndarray, ...]] = {}
        torch_backend, why = self.backend("torch")
        if torch_backend is None:
            notes.append(f"torch {why}")
        else:
            try:
                outputs["torch"] = _run(torch_backend, case.op, arrays, case.params)
            except Exception as exc:
                notes.append(f"torch raises {_describe(exc)}")
        name = str(record.get("backend", "backend"))
        if spec is None:
            notes.append(f"backend {name}: its run recorded no spec to load it by")
        else:
            backend, why = self.backend(spec)
            if backend is None:
                notes.append(f"backend {name} ({spec}) {why}")
            else:
                try:
                    outputs["backend"] = _run(backend, case.op, arrays, case.params)
                except Exception as exc:
                    notes.append(f"backend {name} raises {_describe(exc)}")
        try:
            outputs["reference"] = _run_reference(case.op, arrays, case.params)
        except Exception as exc:
            notes.append(f"the reference raises {_describe(exc)}")
        if not outputs:
            return Window(notes=notes)
        return self._grids(record, case.dtype, name, outputs, notes)

    def _grids(
        self,
        record: dict[str, Any],
        dtype: str,
        name: str,
        outputs: dict[str, tuple[np.ndarray, ...]],
        notes: list[str],
    ) -> Window:
        torch_out, got, ref = outputs.get("torch"), outputs.get("backend"), outputs.get("reference")
        count = max(len(o) for o in outputs.values())
        # the output to show: the first where the backend differs from torch
        k = 0
        if torch_out is not None and got is not None:
            for i, (g, t) in enumerate(zip(got, torch_out)):
                if g.shape != t.shape or _differs(g, t).any():
                    k = i
                    break
        main = {side: out[k] for side, out in outputs.items() if k < len(out)}
        base = main.get("torch", main.get("reference"))
        shape = tuple(base.shape) if base is not None else tuple(next(iter(main.values())).shape)
        cmp = record.get("comparison") if isinstance(record.get("comparison"), dict) else {}
        marks, legend = _marks(main, dtype, cmp)
        if marks is not None and not marks.any():
            notes.append(f"here no element of the backend's output {k} is {legend} (recomputed on this machine)")
        index = cmp.get("worst_index") if cmp else None
        if not _valid_index(index, shape):
            index = None
            if marks is not None and marks.any():
                index = [int(i) for i in np.unravel_index(int(np.argmax(marks)), marks.shape)]
        if index is None:
            index = [0] * len(shape)
        grids = []
        if "torch" in main:
            grids.append(_grid("expected (torch)", main["torch"], index, dtype, None, None))
        if "backend" in main:
            grids.append(_grid(f"actual ({name})", main["backend"], index, dtype, marks, None))
        if "reference" in main and ref is not None:
            ref_arr = main["reference"]
            digits = _DIGITS.get(dtype) if ref_arr.dtype == np.float64 else None
            grids.append(_grid("reference (exact, float64)", ref_arr, index, dtype, None, digits))
        which = f"output {k} of {count}, " if count > 1 else ""
        caption = (
            f"{which}around index {list(index)} (last two axes; rows and columns numbered); "
            "recomputed when this page was rendered"
        )
        return Window(caption, grids, notes, legend if marks is not None else "")
