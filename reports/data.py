"""Results files -> the model the HTML report draws: machines, runs, cells.

A results file is appended to run after run (``tox -e report`` adds two runs
each time), and several files (one per machine) may be merged. So the report
groups runs by *machine* — the environment they ran in: CPU or GPU, Python,
NumPy, torch, CuPy — and within one machine shows, for every backend, op and
cell, the latest run that checked it. Older runs are listed as superseded,
never mixed in, so the counts in one cell always come from a single run.

Everything here is plain data: records are read as they are, any field may be
missing or of an odd type, and nothing from a file is trusted to be HTML-safe
(the template escapes it).
"""

from __future__ import annotations

import functools
import importlib
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.expected import annotate
from conformance.store import read_records

try:  # a resumed run's cell keeps only its finished attempt
    from conformance.store import current_results as _current_results
except ImportError:  # a store without attempts: every record counts
    _current_results = None

#: ``expected``: a failure or error an expected-deviations entry covers (``conformance.expected``).
STATUSES = ("pass", "fail", "error", "expected", "unsupported")
#: Environment fields that tell machines (and software stacks) apart.
MACHINE_FIELDS = ("cpu", "cpu_count", "platform", "python", "numpy", "torch", "cupy", "oracle_cpu_path")
#: backend, op, cell (mode), direction
CellKey = tuple[str, str, str, str]
#: The cell of an op's invalid calls (``conformance.ops.INVALID_CALLS_CELL``;
#: not imported: rendering loads no op).
INVALID_CALLS_CELL = "invalid-calls"


class ReportError(Exception):
    """A results file cannot make a report (missing, or holds no run): exit status 2."""


def num(value: Any) -> float | None:
    """A float from a record's number (the store writes non-finite floats as strings), else ``None``."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def text(value: Any) -> str:
    """Any record value as display text (``None``: empty)."""
    return "" if value is None else str(value)


@dataclass
class Counts:
    """The aggregation of a cell's result records (minimal-case duplicates
    excluded), shared by the HTML report and the end-of-run summary table
    (``reports.summary``): cases per status, worst errors, torch off the
    reference, nondeterministic gradients, and times."""

    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    torch_off_reference: int = 0
    worst_ulp: float = 0.0
    #: The dtype of the case with the worst ULP error (a ULP is a dtype's).
    worst_ulp_dtype: str = ""
    worst_abs: float = 0.0
    #: Records compared with the reference (with a ``comparison``): the worst
    #: errors and torch off the reference mean nothing where this is 0.
    compared: int = 0
    #: Backward cases whose gradient changed between two identical calls.
    nondeterministic: int = 0
    #: Whether any record checked gradients (``direction`` backward).
    backward: bool = False
    #: Per record that has both: backend seconds, torch seconds.
    times: list[float] = field(default_factory=list)
    torch_times: list[float] = field(default_factory=list)
    #: First-call seconds of the records timed twice (``first_call_s``: a JIT's compile included).
    first_calls: list[float] = field(default_factory=list)

    def add(self, status: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def add_record(self, r: dict[str, Any]) -> None:
        """Count one result record (any field may be missing or odd)."""
        status = text(r.get("status")) or "error"
        self.add("expected" if status in ("fail", "error") and r.get("expected") else status)
        if direction_of(r) == "backward":
            self.backward = True
            self.nondeterministic += r.get("deterministic") is False
        cmp = r.get("comparison")
        if isinstance(cmp, dict) and cmp:
            self.compared += 1
            self._worse_ulp(num(cmp.get("max_ulp")), text(r.get("dtype")))
            self.worst_abs = _larger(self.worst_abs, num(cmp.get("max_abs")))
            self.torch_off_reference += bool(cmp.get("torch_off_reference"))
        t, tt = num(r.get("time_s")), num(r.get("torch_time_s"))
        if t is not None and tt is not None and math.isfinite(t) and math.isfinite(tt):
            self.times.append(t)
            self.torch_times.append(tt)
        first = num(r.get("first_call_s"))
        if first is not None and math.isfinite(first):
            self.first_calls.append(first)

    def merge(self, other: Counts) -> None:
        for status, n in other.by_status.items():
            self.by_status[status] = self.by_status.get(status, 0) + n
        self.torch_off_reference += other.torch_off_reference
        self._worse_ulp(other.worst_ulp, other.worst_ulp_dtype)
        self.worst_abs = _larger(self.worst_abs, other.worst_abs)
        self.compared += other.compared
        self.nondeterministic += other.nondeterministic
        self.backward |= other.backward
        self.times += other.times
        self.torch_times += other.torch_times
        self.first_calls += other.first_calls

    def _worse_ulp(self, value: float | None, dtype: str) -> None:
        """Keep the larger ULP error and its dtype (a missing or NaN value is ignored)."""
        if value is None or math.isnan(value):
            return
        if value > self.worst_ulp or not self.worst_ulp_dtype:
            self.worst_ulp, self.worst_ulp_dtype = max(value, self.worst_ulp), dtype

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def checked(self) -> int:
        """Cases the backend took (every status but ``unsupported``)."""
        return sum(n for status, n in self.by_status.items() if status != "unsupported")

    @property
    def worst_ulp_text(self) -> str:
        """The worst ULP error with the dtype it is a ULP of (``-``: nothing compared)."""
        if not self.compared:
            return "-"
        return f"{self.worst_ulp:.3g} {self.worst_ulp_dtype}".rstrip()

    @property
    def status(self) -> str:
        """The cell's colour: fail beats error beats expected beats pass beats unsupported."""
        for status in ("fail", "error", "expected", "pass", "unsupported"):
            if self.by_status.get(status):
                return status
        return "empty"

    @property
    def timing(self) -> Timing | None:
        """The cell's time against torch's, case by case (``None``: no case
        has both times)."""
        ratios = sorted(t / tt for t, tt in zip(self.times, self.torch_times) if tt > 0)
        if not ratios:
            return None
        return Timing(
            median(ratios),
            quantile(ratios, 0.25),
            quantile(ratios, 0.75),
            median(sorted(self.times)),
            median(sorted(self.torch_times)),
            len(ratios),
            max(self.first_calls) if self.first_calls else None,
        )

    @property
    def ratio(self) -> float | None:
        """The median over cases of backend time over torch's."""
        timing = self.timing
        return None if timing is None else timing.ratio


@dataclass(frozen=True)
class Timing:
    """A cell's speed against torch's: the median over its cases of the
    per-case ratio (backend seconds / torch seconds, each case timed on both
    sides on the same input, the first of a cell after a warm-up call) and its
    quartiles, so a few slow calls cannot decide it; and the median seconds of
    each side."""

    ratio: float
    low: float
    high: float
    time_s: float
    torch_time_s: float
    cases: int
    #: The slowest first call of the cell's cases timed twice (a cell's first
    #: case; every case of a backend that compiles): warm-up or compile time,
    #: kept apart from the steady state (``time_s``, the median of the second calls).
    first_call_s: float | None = None

    @property
    def spread(self) -> str:
        """The quartiles of the ratio: ``0.91-1.20x``."""
        return f"{self.low:.2f}-{self.high:.2f}x"


def quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolating linearly between ranks."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def median(ordered: list[float]) -> float:
    return quantile(ordered, 0.5)


def _larger(current: float, value: float | None) -> float:
    """``max`` that ignores a missing or NaN value."""
    return value if value is not None and value > current else current


def tally(records: Iterable[dict[str, Any]]) -> Counts:
    """The ``Counts`` of ``records`` (every one counts: callers leave out the
    minimal-case duplicates).

    ``unsupported`` counts what the backend does not take, the same way
    whether it lacks the op (one record: no case could be drawn) or raises
    ``Unsupported`` on every case of a mode (a record per case): records that
    are all unsupported count 1, the cell (or, in the matrix, the cell's
    dtype) not taken; in a cell the backend takes, each case it declined counts."""
    counts = Counts()
    for r in records:
        counts.add_record(r)
    if counts.by_status.get("unsupported") and not counts.checked:
        counts.by_status["unsupported"] = 1
    return counts


def power_of(variants: Any) -> tuple[list[str], list[str]] | None:
    """``(separated, total)`` from a ``cell_done`` record's ``variants``; ``None``
    when it recorded none (an older file, or a cell with no discriminating case)."""
    if not isinstance(variants, dict):
        return None
    separated, total = variants.get("separated"), variants.get("total")
    if not isinstance(separated, list) or not isinstance(total, list) or not total:
        return None
    return [text(v) for v in separated], [text(v) for v in total]


def power_text(power: tuple[list[str], list[str]] | None) -> str:
    return "-" if power is None else f"{len(power[0])}/{len(power[1])}"


def cell_key(record: dict[str, Any]) -> CellKey:
    """The cell a result record belongs to: backend, op, mode, direction."""
    return (text(record.get("backend")), text(record.get("op")), text(record.get("mode")), direction_of(record))


@dataclass
class Run:
    """One ``python -m conformance run``: its environment, backends and results."""

    run_id: str
    source: str
    order: int
    environment: dict[str, Any] = field(default_factory=dict)
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    #: Per cell, the variants its passing discriminating cases separated
    #: (``cell_done``'s ``variants``: ``{"separated": [...], "total": [...]}``).
    power: dict[CellKey, dict[str, Any]] = field(default_factory=dict)
    #: The run's ``expectations`` records (``conformance.expected``).
    expectations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def date(self) -> str:
        return text(self.environment.get("date"))

    @property
    def gpu(self) -> dict[str, Any]:
        gpu = self.environment.get("gpu")
        return gpu if isinstance(gpu, dict) else {}

    @property
    def machine_key(self) -> tuple[str, ...]:
        return (text(self.gpu.get("name")), *(text(self.environment.get(f)) for f in MACHINE_FIELDS))

    @property
    def hardware(self) -> str:
        """The GPU's name where the run had one, else the CPU model."""
        return text(self.gpu.get("name")) or text(self.environment.get("cpu")) or "unknown machine"


@dataclass
class Cell:
    """One backend x op x cell (x direction: forward, or backward for gradient
    checks) on one machine, from the latest run that checked it."""

    backend: str
    op: str
    mode: str
    direction: str
    run: Run
    records: list[dict[str, Any]]
    _counts: dict[str | None, Counts] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        """The cell as the page names it: the mode, marked when it checks gradients."""
        return cell_label(self.mode, self.direction)

    @property
    def power(self) -> tuple[list[str], list[str]] | None:
        """``(separated, total)`` variants of this cell, if its run recorded them."""
        return power_of(self.run.power.get((self.backend, self.op, self.mode, self.direction)))

    # A cell's records are fixed once it is built, and the page asks for its
    # counts once per dtype column and more: computed once (34,000 records
    # took the report 15 s to recount).
    @functools.cached_property
    def _counted(self) -> list[dict[str, Any]]:
        """The records a cell's counts come from: all but the minimal cases (which
        repeat a failure already counted), unless the cell holds nothing else."""
        plain = [r for r in self.records if not r.get("minimal")]
        return plain or self.records

    @functools.cached_property
    def _by_dtype(self) -> dict[str, list[dict[str, Any]]]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in self._counted:
            groups.setdefault(r.get("dtype"), []).append(r)
        return groups

    def counts(self, dtype: str | None = None) -> Counts:
        """The cell's counts, or those of its cases in ``dtype`` (callers merge them, never change them)."""
        if dtype not in self._counts:
            self._counts[dtype] = tally(self._counted if dtype is None else self._by_dtype.get(dtype, []))
        return self._counts[dtype]

    @functools.cached_property
    def dtypes(self) -> list[str]:
        return sort_dtypes({text(d) for d in self._by_dtype})

    @property
    def invalid_calls(self) -> bool:
        """Whether this is an op's catalog of invalid calls (no search, no
        minimal case: each call is its own fixed case)."""
        return self.mode == INVALID_CALLS_CELL

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The minimal failing cases; where a cell fails without one (a hand-made
        file, a run cut short), its first failing or erroring result; for the
        invalid calls, every one that fails or errors."""
        minimal = [r for r in self.records if r.get("minimal")]
        if minimal:
            return minimal
        bad = [r for r in self.records if r.get("status") in ("fail", "error")]
        return bad if self.invalid_calls else bad[:1]

    def timing(self) -> Timing | None:
        """The cell's speed against torch's (``Counts.timing``)."""
        return self.counts().timing


@dataclass
class Machine:
    """Runs made in one environment; ``cells`` holds the latest result per cell."""

    key: tuple[str, ...]
    label: str
    runs: list[Run]
    cells: dict[CellKey, Cell]
    superseded: list[Run]

    @functools.cached_property
    def dtypes(self) -> list[str]:
        return sort_dtypes({d for c in self.cells.values() for d in c.dtypes})

    @property
    def environment(self) -> dict[str, Any]:
        return self.runs[-1].environment if self.runs else {}


@dataclass
class ReportData:
    """Everything the report shows, machines in the order their files were given."""

    sources: list[str]
    machines: list[Machine]

    @property
    def backends(self) -> list[str]:
        return sorted({k[0] for m in self.machines for k in m.cells})

    @property
    def ops(self) -> list[str]:
        seen: dict[str, None] = {}
        for m in self.machines:
            for key in sorted(m.cells, key=cell_sort_key):
                seen.setdefault(key[1], None)
        return list(seen)

    def rows(self) -> list[CellKey]:
        """Every backend x op x cell any machine has, in a stable reading order."""
        keys = {k for m in self.machines for k in m.cells}
        return sorted(keys, key=cell_sort_key)


def sort_dtypes(dtypes: Iterable[str]) -> list[str]:
    """In the registry's order (``KNOWN_DTYPES``); others follow alphabetically."""
    order = _dtype_order()
    return sorted(dtypes, key=lambda d: (order.index(d) if d in order else len(order), d))


@functools.lru_cache(maxsize=1)
def _dtype_order() -> tuple[str, ...]:
    """``conformance.ops.KNOWN_DTYPES``, imported lazily and optionally as
    ``_order`` imports the op order: without it dtypes sort alphabetically."""
    try:
        return tuple(importlib.import_module("conformance.ops").KNOWN_DTYPES)
    except Exception:  # the order is a nicety, never a reason not to render
        return ()


@functools.lru_cache(maxsize=1)
def _order() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Where each op, and each of its cells, comes (as ``python -m conformance
    list`` shows them), from ``conformance.ops.ORDER`` (or its ``order()``),
    ``[(op, cells)]``. Imported lazily and optionally: the report reads files,
    and without the registry (or with one that cannot be imported here) ops
    and cells sort alphabetically."""
    try:
        registry = importlib.import_module("conformance.ops")
        entries = getattr(registry, "ORDER", None)
        entries = list(entries if entries is not None else registry.order())
        ops = {str(op): i for i, (op, _) in enumerate(entries)}
        modes = {(str(op), str(mode)): i for op, cells in entries for i, mode in enumerate(cells)}
        return ops, modes
    except Exception:  # the order is a nicety, never a reason not to render
        return {}, {}


def mode_rank(op: str, mode: str) -> int:
    """Where ``mode`` comes among ``op``'s cells (as ``python -m conformance list`` shows them)."""
    return _order()[1].get((op, mode), 99)


def cell_sort_key(key: CellKey) -> tuple[Any, ...]:
    backend, op, mode, direction = key
    ops, modes = _order()
    return (backend, ops.get(op, len(ops)), op, modes.get((op, mode), 99), mode, direction != "forward", direction)


def cell_label(mode: str, direction: str) -> str:
    return mode if direction == "forward" else f"{mode} · {direction}"


def direction_of(record: dict[str, Any]) -> str:
    """``forward`` unless a result says otherwise (gradient checks: ``backward``)."""
    return text(record.get("direction")) or "forward"


def _current(records: list[Any]) -> list[Any]:
    """The records that count (see ``conformance.store.current_results``); all
    of them where that cannot tell (an odd hand-made record)."""
    if _current_results is None:
        return records
    try:
        return _current_results(r for r in records if isinstance(r, dict))
    except Exception:
        return records


def read_runs(paths: Iterable[str | os.PathLike[str]]) -> list[Run]:
    """The runs in ``paths``, in file order. Raises ``ReportError`` for a
    missing or unreadable file, or one that holds no run."""
    runs: list[Run] = []
    order = 0
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise ReportError(f"results file {str(p)!r} does not exist: run `python -m conformance run` first")
        by_id: dict[str, Run] = {}
        try:
            records = list(read_records(p))
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"cannot read results file {str(p)!r}: {exc}") from exc
        records = _current(records)
        for record in records:
            if not isinstance(record, dict):
                continue
            kind = record.get("type")
            if kind not in ("environment", "backend", "result", "cell_done", "expectations"):
                continue
            run_id = text(record.get("run_id")) or "(no run id)"
            run = by_id.get(run_id)
            if run is None:
                run = by_id[run_id] = Run(run_id, str(p), order)
                order += 1
            if kind == "environment":
                run.environment = record
            elif kind == "cell_done":
                if isinstance(record.get("variants"), dict):
                    run.power[cell_key(record)] = record["variants"]
            elif kind == "backend":
                run.backends[text(record.get("name"))] = record
            elif kind == "expectations":
                run.expectations.append(record)
            elif isinstance(record.get("backend"), str) and isinstance(record.get("op"), str):
                run.results.append(record)
        for run in by_id.values():
            run.results = [r for r in annotate([*run.expectations, *run.results]) if r.get("type") != "expectations"]
        found = [r for r in by_id.values() if r.environment or r.results]
        if not found:
            raise ReportError(f"results file {str(p)!r} holds no run (no environment or result records)")
        runs.extend(found)
    return runs


def group_machines(runs: list[Run]) -> list[Machine]:
    """Runs grouped by environment; per machine and cell the latest run wins
    (by the run's recorded date, then by position in the files)."""
    groups: dict[tuple[str, ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.machine_key, []).append(run)
    machines = []
    for key, group in groups.items():
        group.sort(key=lambda r: (r.date, r.order))
        cells: dict[CellKey, Cell] = {}
        for run in group:  # later runs overwrite earlier ones, cell by cell
            per_cell: dict[CellKey, list[dict[str, Any]]] = {}
            for r in run.results:
                per_cell.setdefault(cell_key(r), []).append(r)
            for k, records in per_cell.items():
                cells[k] = Cell(*k, run=run, records=records)
        used_ids = {c.run.run_id for c in cells.values()}
        used = [r for r in group if r.run_id in used_ids or not r.results]
        superseded = [r for r in group if r not in used]
        machines.append(Machine(key, "", used, cells, superseded))
    _label(machines)
    return machines


def _short_date(date: str) -> str:
    return date.replace("T", " ")[:16] if date else "undated"


def _label(machines: list[Machine]) -> None:
    """``CPU model or GPU name · latest date``, numbered where two would read alike."""
    seen: dict[str, int] = {}
    for m in machines:
        last = max((r.date for r in m.runs), default="")
        first = m.runs[0] if m.runs else None
        label = f"{first.hardware if first else 'unknown machine'} · {_short_date(last)}"
        seen[label] = seen.get(label, 0) + 1
        m.label = label if seen[label] == 1 else f"{label} ({seen[label]})"


def load(paths: Iterable[str | os.PathLike[str]]) -> ReportData:
    """Read and group ``paths`` (see the module docstring)."""
    paths = [str(p) for p in paths]
    return ReportData(paths, group_machines(read_runs(paths)))
