"""Expected deviations: failures a backend's author has accepted, with a reason.

An expected-deviations file is TOML, a list of ``[[expected]]`` tables::

    [[expected]]
    backend = "mybackend"          # required: the backend's name
    op = "interpolate"             # required
    cell = "bicubic"               # optional: a mode or cell (all when absent)
    dtype = "uint8"                # optional (all when absent)
    direction = "fwd"              # optional: "fwd" or "bwd" (both when absent)
    reason = "rounds between the two separable passes, like torch's uint8 kernels"
    link = "https://example.org/issues/12"   # optional

A failing or erroring case matched by an entry is *expected*: it is reported,
in its own colour, with the entry's reason, and does not fail the run.  An
entry that matched no failure although the run checked its cells is *stale*
(the deviation is gone: remove the entry); ``--strict`` makes stale entries
fail the run.  An entry whose cells the run did not check is neither.

torch's own known deviations (``conformance.deviations``) reach a run of a
torch backend through the same mechanism: ``builtin_expectations``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance import ops
from conformance.deviations import KNOWN_DEVIATIONS

#: The direction spellings of the file, and the results store's.
DIRECTIONS = {"fwd": "forward", "bwd": "backward"}
FIELDS = ("backend", "op", "cell", "dtype", "direction", "reason", "link")
REQUIRED = ("backend", "op", "reason")
#: The torch backends torch's own known deviations apply to (and ``torch@PATH``: ``is_torch``).
TORCH_BACKENDS = ("torch", "torch-cuda")
#: The ``source`` of torch's own known deviations.
BUILT_IN = "torch (built in)"
#: How torch's own deviations show when torch is the backend: off the
#: reference, a failure; raising where the reference computes, an error.
BUILT_IN_STATUSES = {"off-reference": ("fail",), "raises": ("error",)}


class ExpectedFileError(ValueError):
    """An expected-deviations file that cannot be read; the message says where and what to change."""


@dataclass(frozen=True)
class Expectation:
    """One accepted deviation: which failures it covers, and why."""

    backend: str
    op: str
    reason: str
    cell: str | None = None
    dtype: str | None = None
    #: "forward" or "backward" (the file says "fwd" / "bwd"); None: both.
    direction: str | None = None
    link: str | None = None
    #: Where it comes from: the file and entry number, or ``torch (built in)``.
    source: str = ""
    #: The result statuses it covers (a file's entries: failures and errors;
    #: torch's own: what its deviation shows as).
    statuses: tuple[str, ...] = ("fail", "error")

    def covers(self, record: dict[str, Any]) -> bool:
        """Does this entry cover a failing result record?"""
        return record.get("status") in self.statuses and self.scope_holds(record)

    def scope_holds(self, record: dict[str, Any]) -> bool:
        """Is a result record, whatever its status, in this entry's backend,
        op, cell, dtype and direction?"""
        return (
            record.get("backend") == self.backend
            and record.get("op") == self.op
            and (self.cell is None or record.get("mode") == self.cell)
            and (self.dtype is None or record.get("dtype") == self.dtype)
            and (self.direction is None or record.get("direction", "forward") == self.direction)
        )

    def describe(self) -> str:
        where = " ".join(
            part
            for part in (
                self.backend,
                self.op,
                self.cell or "",
                self.dtype or "",
                {"forward": "fwd", "backward": "bwd"}.get(self.direction or "", ""),
            )
            if part
        )
        return f"{where} ({self.source})" if self.source else where

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expectation:
        return cls(**{**data, "statuses": tuple(data.get("statuses", ("fail", "error")))})


def _toml(text: str, path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError as exc:
            raise ExpectedFileError("reading an expected-deviations file on Python 3.10 needs tomli: pip install tomli") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectedFileError(f"{path}: not valid TOML: {exc}") from exc


def load(path: Path | str) -> list[Expectation]:
    """The entries of an expected-deviations file, checked field by field."""
    path = Path(path)
    if not path.is_file():
        raise ExpectedFileError(f"expected-deviations file {str(path)!r} does not exist")
    data = _toml(path.read_text(encoding="utf-8"), path)
    unknown = set(data) - {"expected"}
    if unknown:
        raise ExpectedFileError(f"{path}: unknown top-level key(s) {sorted(unknown)}; write [[expected]] tables")
    entries = data.get("expected", [])
    if not isinstance(entries, list):
        raise ExpectedFileError(f"{path}: 'expected' must be an array of tables: write [[expected]], not [expected]")
    return [_entry(entry, f"{path.name} entry {i}", path) for i, entry in enumerate(entries, 1)]


def _entry(entry: Any, source: str, path: Path) -> Expectation:
    where = f"{path}: {source.split(' ', 1)[1]}"
    if not isinstance(entry, dict):
        raise ExpectedFileError(f"{where}: not a table")
    unknown = set(entry) - set(FIELDS)
    if unknown:
        raise ExpectedFileError(f"{where}: unknown key(s) {sorted(unknown)}; the keys are {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if not entry.get(k)]
    if missing:
        raise ExpectedFileError(f"{where}: {', '.join(missing)} missing; every entry needs backend, op and reason")
    for key, value in entry.items():
        if not isinstance(value, str):
            raise ExpectedFileError(f"{where}: {key} must be a string, not {value!r}")
    direction = entry.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        raise ExpectedFileError(f"{where}: direction must be 'fwd' or 'bwd', not {direction!r}")
    fields = {k: v for k, v in entry.items() if k != "direction"}
    return Expectation(**fields, direction=DIRECTIONS.get(direction or ""), source=source)


def validate(expectations: Iterable[Expectation]) -> None:
    """Unknown ops, cells or dtypes are typos that would silently match nothing."""
    for e in expectations:
        if e.op not in ops.REGISTRY:
            raise ExpectedFileError(f"{e.source}: unknown op {e.op!r}: use one of {', '.join(ops.names())}")
        cells = (*ops.get(e.op).cells, ops.INVALID_CALLS_CELL)
        if e.cell is not None and e.cell not in cells:
            raise ExpectedFileError(f"{e.source}: {e.op} has no cell {e.cell!r}: use one of {', '.join(cells)}")
        if e.dtype is not None and e.dtype not in ops.KNOWN_DTYPES:
            raise ExpectedFileError(f"{e.source}: unknown dtype {e.dtype!r}: use one of {', '.join(ops.KNOWN_DTYPES)}")


def is_torch(name: str) -> bool:
    """Whether a backend is torch itself (on the oracle's path, on CUDA, or on a chosen CPU path)."""
    return name in TORCH_BACKENDS or name.startswith("torch@")


def builtin_expectations(
    backend_names: Iterable[str], paths: Mapping[str, Mapping[str, Any] | None] | None = None
) -> list[Expectation]:
    """torch's own known deviations where torch is the backend checked: each
    off-reference (raising) deviation covers the failures (errors) in its
    cells and dtypes (``Deviation.cells``, ``.dtypes``) and direction, in its
    op and in the aliases that have those cells (an alias computes the same
    kernel), where it shows on the backend's CPU path (``paths``: name ->
    ``backends.torch_backend.cpu_path`` facts; ``None`` or absent: not a CPU
    run, where only the deviations of every path apply)."""
    expectations = []
    for name in (b for b in backend_names if is_torch(b)):
        path = (paths or {}).get(name)
        for d in (d for d in KNOWN_DEVIATIONS if d.shows in BUILT_IN_STATUSES and d.where.holds(path)):
            aliases = [n for n in ops.names() if ops.get(n).alias_of is not None and d.op == "interpolate"]
            for op in (d.op, *aliases):
                for cell in _alias_cells(op, d.cells or (d.case.mode,)):
                    for dtype in d.dtypes or (None,):
                        expectations.append(
                            Expectation(
                                backend=name,
                                op=op,
                                reason=d.summary,
                                cell=cell,
                                dtype=dtype,
                                direction=d.direction,
                                link=f"conformance/deviations.py: {d.name}",
                                source=BUILT_IN,
                                statuses=BUILT_IN_STATUSES[d.shows],
                            )
                        )
    return expectations


def _alias_cells(op: str, modes: Sequence[str]) -> list[str]:
    """The cells of ``op`` where interpolate's ``modes`` run: those of the
    same name, or all of an alias that always runs one of them
    (``upsample_bilinear``'s one cell runs bilinear)."""
    info = ops.get(op)
    fixed = info.fixed_mode()
    return [c for c in info.cells if c in modes or (fixed is not None and fixed in modes)]


@dataclass
class Judgement:
    """A run's failures sorted against the expected deviations."""

    #: Failing or erroring result records no entry covers: these fail the run.
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    #: (record, entry) for each failure an entry covers.
    expected: list[tuple[dict[str, Any], Expectation]] = field(default_factory=list)
    #: Entries whose cells were checked and did not fail.
    stale: list[Expectation] = field(default_factory=list)

    def exit_code(self, strict: bool) -> int:
        return 1 if self.unexpected or (strict and self.stale) else 0


def judge(records: Sequence[dict[str, Any]], expectations: Sequence[Expectation]) -> Judgement:
    """Sort a run's failing results (shrunk duplicates left out) into expected
    and unexpected, and find the stale entries."""
    judgement = Judgement()
    matched: set[Expectation] = set()
    for r in records:
        if r.get("type") != "result" or r.get("minimal") or r.get("status") not in ("fail", "error"):
            continue
        entry = next((e for e in expectations if e.covers(r)), None)
        if entry is None:
            judgement.unexpected.append(r)
        else:
            judgement.expected.append((r, entry))
            matched.add(entry)
    # stale: a case the entry covers was checked, and none failed (torch's
    # own entries are checked by tests/test_deviations.py instead)
    checked = [r for r in records if r.get("type") == "result"]
    for e in expectations:
        if e.source != BUILT_IN and e not in matched and any(e.scope_holds(r) for r in checked):
            judgement.stale.append(e)
    return judgement


def expectation_of(record: dict[str, Any], expectations: Sequence[Expectation]) -> Expectation | None:
    """The entry that covers a failing result record, if any."""
    if record.get("status") not in ("fail", "error"):
        return None
    return next((e for e in expectations if e.covers(record)), None)


def run_expectations(records: Iterable[dict[str, Any]]) -> list[Expectation]:
    """The expectations a run recorded in its results (its ``expectations`` record)."""
    found: list[Expectation] = []
    for r in records:
        if r.get("type") == "expectations":
            found += [Expectation.from_json(e) for e in r.get("entries", [])]
    return found


def suggestion(record: dict[str, Any]) -> str:
    """An ``[[expected]]`` entry accepting a failing cell, its reason taken
    from the diagnosis when there is one: what to paste to accept it."""
    diagnosis = record.get("diagnosis") if isinstance(record.get("diagnosis"), dict) else {}
    named = diagnosis.get("verdict") in ("variant", "pair") and diagnosis.get("summary")
    reason = f"diagnosed: {diagnosis['summary']}" if named else "TODO: why this deviation is accepted"
    lines = [
        "[[expected]]",
        f'backend = "{record["backend"]}"',
        f'op = "{record["op"]}"',
        f'cell = "{record["mode"]}"',
    ]
    if record.get("dtype"):
        lines.append(f'dtype = "{record["dtype"]}"')
    lines.append(f'direction = "{"bwd" if record.get("direction") == "backward" else "fwd"}"')
    lines.append(f"reason = {_quoted(reason)}")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def annotate(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of one run, each failing result that an expected entry of
    the run covers marked ``expected`` (its reason, link and source), so the
    report and the summary count it apart."""
    records = list(records)
    expectations = run_expectations(records)
    if not expectations:
        return records
    marked = []
    for r in records:
        entry = expectation_of(r, expectations) if r.get("type") == "result" else None
        if entry is not None:
            r = {**r, "expected": {"reason": entry.reason, "link": entry.link, "source": entry.source}}
        marked.append(r)
    return marked
