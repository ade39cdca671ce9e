"""The search of one cell: fixed cases, then Hypothesis-drawn ones, then a
shrink of the first failure to a minimal case with its repro."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky, Unsatisfiable

from backends import Backend
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.ops.registry import DtypeRule
from conformance.repro import repro
from conformance.results import CellOutcome, Result
from conformance.strategies import backward_case
from conformance.verdict import check_case

#: A cell stops exploring after this many crashes or hangs in a row (each
#: costs a worker restart or a timeout); its first failure is still shrunk.
GIVE_UP_AFTER = 3
#: Seconds a cell's shrinking may take before the smallest failure so far is reported.
DEFAULT_SHRINK_SECONDS = 60.0

Checker = Callable[[Case], Result]
Recorder = Callable[[Result], None]


@dataclass(frozen=True)
class Cell:
    """One cell of one op, checked in one direction, with its search settings."""

    op: str
    cell: str
    direction: str = "forward"
    examples: int = 100
    seed: int = 0
    dtypes: Sequence[str] | None = None
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS

    def describe(self) -> str:
        return f"{self.op} {self.cell}{' backward' if self.direction == 'backward' else ''}"


def shared_dtypes(cell: Cell, backend: Backend) -> DtypeRule:
    """``dtypes_for(mode, antialias)``: the dtypes torch takes there (the
    registry: the oracle runs the registry's torch code), among ``cell.dtypes``
    if given, that the backend takes."""
    info = ops.get(cell.op)
    key = f"{cell.op}:backward" if cell.direction == "backward" else cell.op
    contract = info.dtypes_for(cell.direction)

    def dtypes_for(mode: str, antialias: bool) -> list[str]:
        params = {"mode": mode, "antialias": antialias}
        return [
            d
            for d in contract(mode, antialias)
            if (cell.dtypes is None or d in cell.dtypes)
            and backend.unsupported_reason(key, d, params) is None
        ]

    return dtypes_for


def case_strategy(cell: Cell, backend: Backend) -> Any:
    """The Hypothesis strategy of a cell; ``None`` when the backend and torch
    share no dtype there.  Backward cells draw forward cases and add a
    cotangent (``backward_case``)."""
    info = ops.get(cell.op)
    forward = info.strategy(cell.cell, shared_dtypes(cell, backend))
    if forward is None or cell.direction == "forward":
        return forward
    return forward.map(lambda case: backward_case(case, info.reference)).filter(lambda case: case is not None)


def fixed_cases(cell: Cell, backend: Backend) -> list[Case]:
    """A few large cases per cell (forward only: backward cells run the same
    paths on drawn cases), in dtypes both sides take."""
    if cell.direction == "backward":
        return []
    info = ops.get(cell.op)
    dtypes_for = shared_dtypes(cell, backend)
    cases = info.fixed_cases(cell.cell, dtypes_for)
    return [c for c in cases if c.dtype in dtypes_for(info.mode_of(c.params), bool(c.params.get("antialias")))]


class _GiveUp(Exception):
    """Raised out of Hypothesis to stop a cell whose backend keeps crashing."""


class _Tally:
    """Records each result, counts it, keeps the first failure, and gives up
    after ``GIVE_UP_AFTER`` crashes or hangs in a row.  Once given up it checks
    nothing more, so Hypothesis's replay of the example that raised
    ``_GiveUp`` records nothing twice."""

    def __init__(self, check: Checker, record: Recorder) -> None:
        self.check, self.record = check, record
        self.outcome = CellOutcome()
        self.first_failure: Result | None = None
        self.streak = 0

    @property
    def gave_up(self) -> bool:
        return self.streak >= GIVE_UP_AFTER

    def __call__(self, case: Case) -> None:
        if self.gave_up:
            raise _GiveUp
        self.note(self.check(case))
        if self.gave_up:
            raise _GiveUp

    def note(self, result: Result) -> None:
        self.outcome.counts[result.status] += 1
        if result.failed and self.first_failure is None:
            self.first_failure = result
        self.record(result)
        self.streak = self.streak + 1 if result.extra.get("isolation") else 0


_COMMON: dict[str, Any] = dict(
    database=None,
    deadline=None,
    print_blob=False,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
    verbosity=Verbosity.quiet,
)


def _unsupported(cell: Cell, backend: Backend, why: str) -> Result:
    probe = Case(cell.op, InputSpec((1, 1, 1), "float32"), {"mode": cell.cell}, direction=cell.direction)
    return Result(backend.name, probe, "unsupported", why)


def _explore(cell: Cell, strategy: Any, tally: _Tally, backend: Backend) -> None:
    """Check ``cell.examples`` drawn cases (no shrinking here)."""

    @seed(cell.seed)
    @settings(max_examples=cell.examples, phases=[Phase.generate], **_COMMON)
    @given(strategy)
    def explore(case: Case) -> None:
        tally(case)

    try:
        explore()
    except _GiveUp:
        pass
    except Unsatisfiable:
        tally.note(_unsupported(cell, backend, f"no valid {cell.describe()} case for {backend.name}'s dtypes"))


def _shrink(cell: Cell, strategy: Any, check: Checker, first_failure: Result) -> Result:
    """Let Hypothesis shrink the first failure it meets, for at most
    ``cell.shrink_seconds``; the smallest failure so far wins."""
    smallest: list[Result] = []
    deadline = time.monotonic() + cell.shrink_seconds

    class _Failed(AssertionError):
        pass

    @seed(cell.seed)
    @settings(max_examples=cell.examples, phases=[Phase.generate, Phase.shrink], **_COMMON)
    @given(strategy)
    def shrink(case: Case) -> None:
        if smallest and time.monotonic() > deadline:
            return  # out of time: every further try "passes", ending the shrink
        result = check(case)
        if result.failed:
            smallest[:] = [result]
            raise _Failed

    try:
        shrink()
    except (_Failed, Flaky):
        pass
    # Only fixed cases failed (Hypothesis met none): report the first as is.
    return smallest[0] if smallest else first_failure


def search_cell(
    cell: Cell, backend: Backend, spec: str, oracle: Oracle, record: Recorder, checker: Checker | None = None
) -> CellOutcome:
    """Check the fixed cases and ``cell.examples`` drawn cases of one cell,
    recording each result; if any failed, shrink the first failure to a
    minimal case and record that with its repro.  ``checker`` runs one case
    (default: in this process; the session passes an isolated worker's)."""
    check = checker or (lambda case: check_case(case, backend, oracle))
    tally = _Tally(check, record)
    try:
        for case in fixed_cases(cell, backend):
            tally(case)
    except _GiveUp:
        pass
    strategy = case_strategy(cell, backend)
    if strategy is None:
        tally.note(_unsupported(cell, backend, f"{backend.name} takes no dtype torch takes in {cell.describe()}"))
        return tally.outcome
    if not tally.gave_up:
        _explore(cell, strategy, tally, backend)
    if tally.first_failure is None:
        return tally.outcome
    minimal = _shrink(cell, strategy, check, tally.first_failure)
    minimal = Result(**{**minimal.__dict__, "minimal": True, "repro": repro(minimal.case, spec)})
    tally.outcome.minimal = minimal
    record(minimal)
    return tally.outcome


def check_invalid_calls(
    op: str, backend: Backend, oracle: Oracle, record: Recorder, checker: Checker | None = None
) -> CellOutcome:
    """Check the registry's invalid-call entries of ``op`` (no search: each
    entry is a fixed call torch refuses)."""
    check = checker or (lambda case: check_case(case, backend, oracle))
    outcome = CellOutcome()
    for case in ops.get(op).invalid_calls:
        result = check(case)
        outcome.counts[result.status] += 1
        record(result)
    return outcome
