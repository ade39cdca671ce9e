"""The search of one cell: fixed cases, then Hypothesis-drawn ones, then a
shrink of the first failure to a minimal case with its repro."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky, Unsatisfiable

from backends import Backend
from conformance import ops, torch_errors
from conformance.cases import SPECIAL_DISTRIBUTIONS, Case, InputSpec
from conformance.diagnosis import MAX_PASSING, VariantChecker, VariantOracle, diagnose
from conformance.execute import Oracle
from conformance.failures import Group, Groups, error_diagnosis, failure_kind
from conformance.forms import other_forms
from conformance.fpenv import SubnormalMode
from conformance.history import Replayer, dependence
from conformance.ops.registry import DtypeRule
from conformance.power import Power, cached
from conformance.repro import repro
from conformance.results import CellOutcome, Result
from conformance.strategies import backward_case
from conformance.verdict import check_case
from reference.dtypes import is_floating

#: A cell stops exploring after this many crashes in a row (each costs a
#: worker restart), or after its first hang (each costs a wait of its limit:
#: one hang is enough); its first failure is still shrunk.
GIVE_UP_AFTER = 3
#: Seconds a cell's shrinking may take before the smallest failure so far is reported.
DEFAULT_SHRINK_SECONDS = 60.0
#: Seconds a failing cell's failure path may take: the layout and
#: special-value cases it checks after its first failure, the shrink and the
#: diagnosis.  Each is cut short when the budget is spent, and the minimal
#: case's record says so (``budget``): a broken backend's run costs seconds
#: per cell, not minutes, while a working one's never meets the budget.
DEFAULT_FAILURE_BUDGET = 60.0

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
    failure_budget: float = DEFAULT_FAILURE_BUDGET
    #: A wrong message phrase fails its case (``conformance.verdict.message_check``).
    strict_messages: bool = False
    #: The settings of the backend's workers (``IsolatedChecker``'s keywords), for
    #: the fresh workers a history-dependent failure is replayed in (``history``).
    worker: tuple[tuple[str, Any], ...] = ()

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


def case_strategy(cell: Cell, backend: Backend, dtypes_for: DtypeRule | None = None) -> Any:
    """The Hypothesis strategy of a cell; ``None`` when the backend and torch
    share no dtype there.  Backward cells draw forward cases and add a
    cotangent (``backward_case``).  ``dtypes_for``: the backend's
    ``shared_dtypes`` rule, or a recorder of it."""
    info = ops.get(cell.op)
    forward = info.strategy(cell.cell, dtypes_for or shared_dtypes(cell, backend))
    if forward is None or cell.direction == "forward":
        return forward
    return forward.map(lambda case: backward_case(case, info.reference)).filter(lambda case: case is not None)


def _takes(cell: Cell, backend: Backend, case: Case) -> bool:
    """Whether ``case``'s dtype is one both the backend and torch take there."""
    info = ops.get(cell.op)
    return case.dtype in shared_dtypes(cell, backend)(info.mode_of(case.params), bool(case.params.get("antialias")))


def fixed_cases(cell: Cell, backend: Backend) -> list[Case]:
    """A few large cases per cell (forward only: backward cells run the same
    paths on drawn cases), in dtypes both sides take."""
    if cell.direction == "backward":
        return []
    cases = ops.get(cell.op).fixed_cases(cell.cell, shared_dtypes(cell, backend))
    return [c for c in cases if _takes(cell, backend, c)]


def edge_cases(cell: Cell, backend: Backend) -> list[Case]:
    """The op's edge cases (``OpInfo.edge_cases``) in dtypes both sides take,
    with a cotangent in a backward cell."""
    info = ops.get(cell.op)
    cases = [c for c in info.edge_cases(cell.cell, shared_dtypes(cell, backend)) if _takes(cell, backend, c)]
    if cell.direction == "backward":
        cases = [b for b in (backward_case(c, info.reference) for c in cases) if b is not None]
    return cases


@dataclass(frozen=True)
class Planned:
    """A discriminating case as a run checks it: its forms in the dtypes the
    run takes (its own first, then its twins'), and the variants it separates."""

    forms: tuple[Case, ...]
    separates: tuple[str, ...]
    #: A stand-in, checked only where the other cases leave its variants unreached.
    reserve: bool = False


def discriminating_cases(cell: Cell, backend: Backend) -> tuple[list[Planned], Power]:
    """The cell's cached discriminating cases the backend can run, reserves
    last, and the power they can reach (every variant the cell's cases
    separate).  A case in a dtype the run does not check is checked in its
    twin's dtype, one in a form the backend declines in its twin's form
    (``Discriminating.twins``); the variants of a case with no such twin are
    lost (``Power.lost``, ``lose_unreached``)."""
    found, _ = cached(cell.op, cell.cell, cell.direction)
    power = Power()
    power.expect(found)
    planned = []
    for d in sorted(found, key=lambda d: d.reserve):
        forms = tuple(c for c in (d.case, *d.twins) if _takes(cell, backend, c))
        if forms:
            planned.append(Planned(forms, d.separates, d.reserve))
    return planned, power


def lose_unreached(power: Power, reached: set[str], declined: dict[str, str], cell: Cell) -> None:
    """Name the restriction that lost each variant no checked case reached:
    the backend's declines, the run's ``--dtype``, or the dtypes the backend takes."""
    for name in sorted(power.total - reached):
        if name in declined:
            power.lose(f"the backend's declines ({declined[name]})", [name])
        elif cell.dtypes is not None:
            power.lose(f"--dtype {','.join(cell.dtypes)}", [name])
        else:
            power.lose("the dtypes the backend takes", [name])


#: Memory layouts every cell checks at least once, on its first fixed (large) case.
CHECKED_LAYOUTS = ("transposed", "reversed")


def relaid(case: Case | None) -> list[Case]:
    """``case`` with its input in each of ``CHECKED_LAYOUTS``: whatever the
    draws, every run checks that the backend reads strided memory right."""
    if case is None or len(case.input.shape) < 2:
        return []
    return [replace(case, input=replace(case.input, layout=layout)) for layout in CHECKED_LAYOUTS]


def revalued(case: Case | None) -> list[Case]:
    """``case`` with its input drawn from each special-value distribution
    (``conformance.cases.SPECIAL_DISTRIBUTIONS``: subnormal, huge, NaN and
    infinities) where its dtype is a real floating one: whatever the draws,
    every run checks them once per cell (a backend that flushes subnormals
    met them in only some seeds' draws)."""
    if case is None or not is_floating(case.dtype):
        return []
    return [replace(case, input=replace(case.input, distribution=d)) for d in SPECIAL_DISTRIBUTIONS]


class _GiveUp(Exception):
    """Raised out of Hypothesis to stop a cell whose backend keeps crashing."""


def _key(case: Case) -> str:
    return json.dumps(case.to_json(), sort_keys=True)


class _Tally:
    """Records each result, counts it, groups the failures by kind
    (``conformance.failures``), and gives up
    after ``GIVE_UP_AFTER`` crashes in a row or a hang.  Once given up it
    checks nothing more, so Hypothesis's replay of the example that raised
    ``_GiveUp`` records nothing twice.  It keeps each case's result, so that
    the shrink (whose first draws replay the exploration's) runs no case the
    cell checked already: a hang is waited out once."""

    def __init__(self, check: Checker, record: Recorder) -> None:
        self.check, self.record = check, record
        self.outcome = CellOutcome()
        self.groups = Groups()
        self.streak = 0
        self.seen: dict[str, Result] = {}
        #: A few passing cases, for a diagnosis.
        self.passing: list[Case] = []
        #: Every case the backend ran, in order (``conformance.history``).
        self.history: list[Case] = []

    @property
    def first_failure(self) -> Result | None:
        return self.groups.first

    @property
    def gave_up(self) -> bool:
        return self.streak >= GIVE_UP_AFTER

    def __call__(self, case: Case, separates: tuple[str, ...] = ()) -> Result:
        if self.gave_up:
            raise _GiveUp
        self.history.append(case)
        result = self.check(case)
        self.seen.setdefault(_key(case), result)
        if separates:
            result.extra["separates"] = list(separates)
        self.note(result)
        if self.gave_up:
            raise _GiveUp
        return result

    def note(self, result: Result) -> None:
        self.outcome.counts[result.status] += 1
        if result.status == "unsupported":
            declined = self.outcome.declined
            declined[result.message] = declined.get(result.message, 0) + 1
        if result.failed:
            self.groups.add(result)
        elif result.status == "pass" and len(self.passing) < MAX_PASSING:
            self.passing.append(result.case)
        self.record(result)
        isolation = result.extra.get("isolation")
        self.streak = self.streak + (GIVE_UP_AFTER if isolation == "timeout" else 1) if isolation else 0

    def known_or_check(self, case: Case) -> Result:
        """The cell's result of ``case`` if it checked it already, else a new check (not recorded)."""
        known = self.seen.get(_key(case))
        if known is not None:
            return known
        self.history.append(case)
        return self.check(case)


class _Budget:
    """A failing cell's failure budget (``DEFAULT_FAILURE_BUDGET``): the
    seconds its failure path has spent, and what the budget cut short."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.spent = seconds, 0.0
        self.cut: list[str] = []

    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    @contextmanager
    def charge(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.spent += time.monotonic() - start

    def record(self) -> dict[str, Any] | None:
        """The minimal case's ``budget`` record; ``None`` when it cut nothing."""
        return {"seconds": self.seconds, "spent": round(self.spent, 3), "cut": self.cut} if self.cut else None


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


@contextmanager
def _own_constants_only() -> Iterator[None]:
    """Hypothesis (6.131 on) mixes into its draws constants it reads from the
    source of every local module imported so far, so a seed's cases depend on
    which ones a process happens to have imported (the command line or a job
    process of ``--jobs``, an earlier cell's lazy imports) and change with any
    edit of the code.  Within this block it draws with its own constants only:
    a cell's cases are a function of its settings and seed.  (Hypothesis's
    private API: where it is not there to patch, nothing changes.)"""
    try:
        from hypothesis.internal.conjecture import providers

        constants, cache, local = providers.Constants(), providers.CONSTANTS_CACHE, providers._get_local_constants
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: constants
    cache.cache.clear()  # it holds the local constants of the draws so far
    try:
        yield
    finally:
        providers._get_local_constants = local
        cache.cache.clear()


class _Recorder:
    """A dtype rule that remembers what it answered."""

    def __init__(self, rule: DtypeRule) -> None:
        self.rule = rule
        self.answers: dict[tuple[str, bool], tuple[str, ...]] = {}

    def __call__(self, mode: str, antialias: bool) -> list[str]:
        answer = list(self.rule(mode, antialias))
        self.answers[mode, antialias] = tuple(answer)
        return answer


@dataclass
class _Drawn:
    """The cases a cell's exploration drew, in order, every answer of the
    backend's dtype rule that the drawing asked for, and whether Hypothesis
    drew all it would (else the backend had its checked cases first)."""

    answers: dict[tuple[str, bool], tuple[str, ...]]
    cases: list[Case]
    complete: bool = True


#: The cases each cell drew in this process, by its search settings.  The
#: draws are a function of those and of the dtype rule's answers alone (the
#: seed fixes Hypothesis; a failure does not stop exploring), so a later
#: backend whose rule answers alike checks the same cases without drawing
#: them again (about half a case's time): what it would have drawn itself.
_DRAWN: dict[tuple[Any, ...], _Drawn] = {}

#: A cell draws until ``examples`` cases were checked (the cases its backend
#: declines, ``unsupported``, do not count), at most this many times
#: ``examples`` draws.
DRAW_CAP = 5


class _Enough(Exception):
    """Raised out of Hypothesis once a cell has checked its ``examples`` cases."""


class _Checked:
    """The drawn cases a backend checked (took) so far, out of ``wanted``."""

    def __init__(self, wanted: int) -> None:
        self.wanted, self.count = wanted, 0

    @property
    def enough(self) -> bool:
        return self.count >= self.wanted

    def add(self, result: Result) -> None:
        self.count += result.status != "unsupported"


def _drawn_key(cell: Cell) -> tuple[Any, ...]:
    dtypes = None if cell.dtypes is None else tuple(cell.dtypes)
    return (cell.op, cell.cell, cell.direction, cell.examples, cell.seed, dtypes)


def _replay(cell: Cell, dtypes_for: _Recorder, tally: _Tally, checked: _Checked) -> list[Case] | None:
    """Check the cases an earlier backend drew for the same cell, when they are
    the same draws; ``None`` when there are none to replay, else the cases
    replayed when more must be drawn (``[]`` when the cell is done)."""
    drawn = _DRAWN.get(_drawn_key(cell))
    if drawn is None or any(tuple(dtypes_for.rule(*asked)) != answer for asked, answer in drawn.answers.items()):
        return None
    try:
        for case in drawn.cases:
            if checked.enough:
                return []
            checked.add(tally(case))
    except _GiveUp:
        return []
    return [] if checked.enough or drawn.complete else drawn.cases


def _explore(cell: Cell, strategy: Any, dtypes_for: _Recorder, tally: _Tally, backend: Backend) -> None:
    """Check cases drawn from ``strategy`` (no shrinking here), built on
    ``dtypes_for``, until ``cell.examples`` were checked or ``DRAW_CAP``
    times as many drawn; the cases an earlier backend drew for the same cell
    when they are the same draws."""
    checked = _Checked(cell.examples)
    known = _replay(cell, dtypes_for, tally, checked)
    if known == []:
        return
    known = known or []
    cases: list[Case] = []

    @seed(cell.seed)
    @settings(max_examples=cell.examples * DRAW_CAP, phases=[Phase.generate], **_COMMON)
    @given(strategy)
    def explore(case: Case) -> None:
        if checked.enough:
            raise _Enough  # Hypothesis's replay of the last case: checked already
        cases.append(case)
        if len(cases) > len(known):  # the first ones an earlier backend drew, and this one checked
            checked.add(tally(case))
        if checked.enough:
            raise _Enough

    complete = False
    try:
        with _own_constants_only():
            explore()
        complete = True
    except _Enough:
        pass
    except _GiveUp:
        return  # drew only part of the cell's cases
    except Unsatisfiable:
        tally.note(_unsupported(cell, backend, f"no valid {cell.describe()} case for {backend.name}'s dtypes"))
        return
    # a copy of the answers: a shrink may ask more
    _DRAWN[_drawn_key(cell)] = _Drawn(dict(dtypes_for.answers), cases, complete)


def _shrink(cell: Cell, strategy: Any, check: Checker, group: Group, seconds: float) -> tuple[Result, bool]:
    """Let Hypothesis shrink the first failure of ``group``'s kind it meets
    (``failure_kind``: a case failing another way is no smaller case of this
    failure), for at most ``seconds``; the smallest failure so far wins.  A
    hang ends the shrink (each more would cost a wait of its limit).  Also
    whether the time ran out before Hypothesis was done."""
    smallest: list[Result] = []
    deadline = time.monotonic() + seconds
    stopped, hung = [False], [False]

    class _Failed(AssertionError):
        pass

    @seed(cell.seed)
    @settings(max_examples=cell.examples * DRAW_CAP, phases=[Phase.generate, Phase.shrink], **_COMMON)
    @given(strategy)
    def shrink(case: Case) -> None:
        if hung[0] or (smallest and time.monotonic() > deadline):
            stopped[0] = stopped[0] or time.monotonic() > deadline
            return  # out of time, or a hang: every further try "passes", ending the shrink
        result = check(case)
        hung[0] = result.extra.get("isolation") == "timeout"
        if result.failed and failure_kind(result) == group.kind:
            smallest[:] = [result]
            raise _Failed

    try:
        with _own_constants_only():
            shrink()
    except (_Failed, Flaky):
        pass
    # Only fixed cases failed this way (Hypothesis met none): report the first as is.
    return (smallest[0] if smallest else group.first), stopped[0]


#: Each backend's floating-point mode, over all its cells in this process (the
#: backend held, so that its id is not reused).
_MODES: dict[int, tuple[Backend, SubnormalMode]] = {}


def in_process(backend: Backend, oracle: Oracle, strict_messages: bool = False) -> Checker:
    """A checker that runs cases in this process (``--no-isolation``, the
    pytest plugin), with the harness's own steps kept out of a flushing
    backend's floating-point mode (``conformance.fpenv``), as a worker does."""
    mode = _MODES.setdefault(id(backend), (backend, SubnormalMode()))[1]
    return lambda case: mode.explain(check_case(case, backend, oracle, mode.step, strict_messages=strict_messages))


def search_cell(
    cell: Cell,
    backend: Backend,
    spec: str,
    oracle: Oracle,
    record: Recorder,
    checker: Checker | None = None,
    variant_checker: VariantChecker | None = None,
    replay: Replayer | None = None,
) -> CellOutcome:
    """Check the cell's discriminating cases, its fixed and edge cases and
    ``cell.examples`` drawn cases, recording each result (and the variants the
    passing discriminating cases separate: ``outcome.power``); if any failed,
    shrink the first failure of each kind (``conformance.failures``) to a
    minimal case and record that with its repro and diagnosis.  ``checker`` runs one case
    (default: in this process; the session passes an isolated worker's).
    ``replay``: runs cases in a fresh worker, to tell a failure that depends
    on earlier calls (``conformance.history``; ``None``: not asked).
    The failure path runs within ``cell.failure_budget`` (``_Budget``)."""
    check = checker or in_process(backend, oracle, cell.strict_messages)
    tally, budget = _Tally(check, record), _Budget(cell.failure_budget)
    _chosen_cases(cell, backend, tally, budget)
    dtypes_for = _Recorder(shared_dtypes(cell, backend))
    strategy = case_strategy(cell, backend, dtypes_for)
    if strategy is None:
        tally.note(_unsupported(cell, backend, f"{backend.name} takes no dtype torch takes in {cell.describe()}"))
        return tally.outcome
    if not tally.gave_up:
        _explore(cell, strategy, dtypes_for, tally, backend)
    for group in tally.groups.shown():
        minimal = _minimal(cell, strategy, tally, budget, group, spec, _judge(variant_checker, backend), oracle)
        if replay is not None:
            _history(minimal, tally, budget, replay, spec)
        tally.outcome.minimals.append(minimal)
        record(minimal)
    tally.outcome.budget_cut = list(budget.cut)
    return tally.outcome


def _judge(variant_checker: VariantChecker | None, backend: Backend) -> VariantChecker:
    return variant_checker or (lambda case, name: check_case(case, backend, VariantOracle(name)))


def _minimal(
    cell: Cell,
    strategy: Any,
    tally: _Tally,
    budget: _Budget,
    group: Group,
    spec: str,
    judge: VariantChecker,
    oracle: Oracle,
) -> Result:
    """The minimal case of one kind of failure, with its repro, its diagnosis
    and (``group``) what kind it is and how many of the cell's cases failed so."""
    with budget.charge():
        minimal, stopped = _shrink(cell, strategy, tally.known_or_check, group, min(cell.shrink_seconds, budget.left()))
    if stopped and "the shrink" not in budget.cut:
        budget.cut.append("the shrink")
    minimal = Result(**{**minimal.__dict__, "minimal": True, "repro": repro(minimal.case, spec)})
    kinds = len(tally.groups.by_kind)
    minimal.extra = {**minimal.extra, "group": {"kind": group.kind, "cases": group.count, "kinds": kinds}}
    if kinds > len(tally.groups.shown()):
        minimal.extra["group"]["others"] = tally.groups.not_shown()
    if minimal.status == "error":
        minimal.extra = {**minimal.extra, "diagnosis": error_diagnosis(minimal, group, tally.passing)}
    if minimal.status == "fail":
        failing = [minimal.case, *(c for c in group.sample if c != minimal.case)]
        with budget.charge():
            found = diagnose(cell.op, cell.direction, failing, tally.passing, judge, oracle, _deadline(budget))
        if found.unchecked and "the diagnosis" not in budget.cut:
            budget.cut.append("the diagnosis")
        minimal.extra = {**minimal.extra, "diagnosis": found.to_json()}
    spent = budget.record()
    if spent is not None:
        minimal.extra = {**minimal.extra, "budget": spent}
    return minimal


def _history(minimal: Result, tally: _Tally, budget: _Budget, replay: Replayer, spec: str) -> None:
    """Where ``minimal`` passes alone in a fresh worker: label it, and give its
    repro the earlier cases that reproduce it (``conformance.history``)."""
    if minimal.extra.get("isolation") or not budget.left():
        return
    with budget.charge():
        found = dependence(minimal, tally.history, replay, _deadline(budget))
    if found is None:
        return
    minimal.extra["history"] = found
    minimal.message = f"{minimal.message}; {found['text']}"
    if found["earlier"]:
        minimal.repro = repro(minimal.case, spec, [Case.from_json(c) for c in found["earlier"]])


def _deadline(budget: _Budget) -> float:
    return time.monotonic() + budget.left()


def _chosen_cases(cell: Cell, backend: Backend, tally: _Tally, budget: _Budget) -> None:
    """The cell's discriminating, fixed and edge cases, then its first fixed
    (or discriminating) case in each memory layout and special-value
    distribution: those within the failure budget once the cell has failed."""
    discriminating, power = discriminating_cases(cell, backend)
    tally.outcome.power = power
    try:
        _check_discriminating(tally, discriminating, power, cell)
        fixed = fixed_cases(cell, backend)
        for case in (*fixed, *edge_cases(cell, backend)):
            _in_a_form_taken(tally, case, other_forms(case))
        first = fixed[0] if fixed else discriminating[0].forms[0] if discriminating else None
        for case in (*relaid(first), *revalued(first)):
            if tally.first_failure is None:
                tally(case)
                continue
            if not budget.left():
                budget.cut.append("the layout and special-value cases")
                break
            with budget.charge():
                tally(case)
    except _GiveUp:
        pass


def _check_discriminating(tally: _Tally, planned: list[Planned], power: Power, cell: Cell) -> None:
    """The cases that tell torch's semantics from the plausible wrong ones,
    each in its first form the backend takes; a reserve only where the others
    left one of its variants unreached.  What no case reached is lost."""
    reached: set[str] = set()
    declined: dict[str, str] = {}
    try:
        for p in planned:
            if p.reserve and reached.issuperset(p.separates):
                continue
            result = _in_a_form_taken(tally, p.forms[0], p.forms[1:], p.separates)
            if result.status == "unsupported":
                declined.update({v: result.message for v in p.separates if v not in declined})
                continue
            reached.update(p.separates)
            if result.status == "pass":
                power.passed(p.separates)
    finally:
        lose_unreached(power, reached, declined, cell)


def _in_a_form_taken(tally: _Tally, case: Case, twins: Sequence[Case], separates: tuple[str, ...] = ()) -> Result:
    """Check ``case``; where the backend declines it, its first twin in
    another input form that it takes (``conformance.forms``; for a
    discriminating case, one that separates the same variants)."""
    result = tally(case, separates)
    for twin in twins:
        if result.status != "unsupported":
            break
        result = tally(twin, separates)
    return result


def check_invalid_calls(
    op: str,
    backend: Backend,
    oracle: Oracle,
    record: Recorder,
    checker: Checker | None = None,
    strict_messages: bool = False,
) -> CellOutcome:
    """Check the registry's invalid-call entries of ``op``, then torch's own
    error inputs of it that cross the protocol (``conformance.torch_errors``,
    where torch's testing internals import) (no search: each entry is a fixed
    call torch refuses); like a search, stop after
    ``GIVE_UP_AFTER`` crashes or hangs in a row (an op that hangs on every
    call would cost a timeout per entry, 45 of them for interpolate)."""
    check = checker or in_process(backend, oracle, strict_messages)
    tally = _Tally(check, record)
    try:
        for case in (*ops.get(op).invalid_calls, *torch_errors.stored_invalid_calls(op)):
            tally(case)
    except _GiveUp:
        pass
    return tally.outcome
