"""Run cases: materialise the input once, call the oracles and the backend,
compare, time, and search with Hypothesis for a minimal failing case."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

import reference
from backends import DTYPES, Backend, Unsupported
from backends.reference_backend import to_dtype
from conformance.cases import Case, InputSpec
from conformance.strategies import fixed_interpolate_cases, interpolate_cases
from conformance.tolerance import Comparison, compare_exact, compare_numeric
from reference.interpolate import ANTIALIAS_MODES, DATA_MOVEMENT_MODES, MODE_RANKS

#: Ops the harness can check, and the cells (modes) of each.
OP_CELLS: dict[str, tuple[str, ...]] = {"interpolate": tuple(MODE_RANKS)}

STATUSES = ("pass", "fail", "error", "unsupported")


@dataclass
class Result:
    """The verdict on one case for one backend."""

    backend: str
    case: Case
    status: str
    message: str = ""
    comparison: Comparison | None = None
    time_s: float | None = None
    torch_time_s: float | None = None
    minimal: bool = False
    repro: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "result",
            "backend": self.backend,
            "op": self.case.op,
            "mode": self.case.mode,
            "dtype": self.case.dtype,
            "status": self.status,
            "message": self.message,
            "case": self.case.to_json(),
            "comparison": self.comparison.to_json() if self.comparison else None,
            "time_s": self.time_s,
            "torch_time_s": self.torch_time_s,
            "minimal": self.minimal,
            "repro": self.repro,
        }


def is_exact(case: Case) -> bool:
    """Whether the op moves data only (then results must match bit for bit)."""
    return case.op == "interpolate" and case.mode in DATA_MOVEMENT_MODES


def _timed(backend: Backend, op: str, x: Any, params: dict[str, Any]) -> tuple[Any, float]:
    backend.synchronize()
    start = time.perf_counter()
    out = getattr(backend, op)(x, **params)
    backend.synchronize()
    return out, time.perf_counter() - start


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


@dataclass
class Expected:
    """What the oracles say about a case: torch's output (or exception) and
    the exact reference result (or exception)."""

    torch_out: np.ndarray | None
    torch_exc: BaseException | None
    torch_time_s: float | None
    exact: np.ndarray | None
    reference_exc: BaseException | None
    torch_crash: BaseException | None = None


def _is_torch_crash(exc: BaseException) -> bool:
    """An internal assertion of torch's (a torch bug), not an argument error."""
    return "INTERNAL ASSERT FAILED" in str(exc)


class Oracle:
    """torch (on the CPU unless told otherwise) and the float64 reference."""

    def __init__(self, torch_backend: Backend | None = None) -> None:
        if torch_backend is None:
            from backends.torch_backend import TorchBackend

            torch_backend = TorchBackend()
        self.torch = torch_backend

    def expected(self, case: Case, x: np.ndarray) -> Expected:
        torch_out = torch_exc = exact = ref_exc = None
        torch_time = None
        try:
            out, torch_time = _timed(self.torch, case.op, self.torch.from_numpy(x), case.params)
            torch_out = self.torch.to_numpy(out)
        except Exception as exc:  # torch's exception is the expected behaviour
            torch_exc = exc
        try:
            exact = getattr(reference, case.op)(x.copy(), **case.params)
        except Exception as exc:
            ref_exc = exc
        crashed = None
        if torch_exc is not None and _is_torch_crash(torch_exc) and exact is not None:
            # torch's own bug is no contract: judge against the reference alone,
            # as if torch had returned the correctly rounded result.
            crashed, torch_exc = torch_exc, None
            torch_out = to_dtype(exact, x.dtype)
        return Expected(torch_out, torch_exc, torch_time, exact, ref_exc, crashed)


def check_case(case: Case, backend: Backend, spec: str, oracle: Oracle) -> Result:
    """Run ``case`` on ``backend`` and judge it against torch and the reference."""
    name = backend.name
    reason = backend.unsupported_reason(case.op, case.dtype, case.params)
    if reason:
        return Result(name, case, "unsupported", reason)
    x = case.input.materialize()
    want = oracle.expected(case, x)
    try:
        out, elapsed = _timed(backend, case.op, backend.from_numpy(x.copy()), case.params)
        got = np.asarray(backend.to_numpy(out))
    except Unsupported as exc:
        return Result(name, case, "unsupported", str(exc) or "raised Unsupported")
    except Exception as exc:
        if want.torch_exc is not None:
            if type(exc) is type(want.torch_exc):
                return Result(name, case, "pass", f"raised {type(exc).__name__} as torch does")
            return Result(
                name,
                case,
                "fail",
                f"raised {_describe(exc)}; torch raises {_describe(want.torch_exc)}",
            )
        return Result(
            name, case, "error", f"raised {_describe(exc)}; torch returns a result", torch_time_s=want.torch_time_s
        )
    if want.torch_exc is not None:
        return Result(
            name, case, "fail", f"returned a result; torch raises {_describe(want.torch_exc)}", time_s=elapsed
        )
    assert want.torch_out is not None
    timing = {"time_s": elapsed, "torch_time_s": want.torch_time_s}
    if got.shape != want.torch_out.shape:
        return Result(
            name, case, "fail", f"shape {list(got.shape)}; torch gives {list(want.torch_out.shape)}", **timing
        )
    if got.dtype != want.torch_out.dtype:
        return Result(name, case, "fail", f"dtype {got.dtype}; torch gives {want.torch_out.dtype}", **timing)
    if want.exact is None:
        return Result(name, case, "error", f"the reference raised {_describe(want.reference_exc)}", **timing)
    if is_exact(case):
        comparison = compare_exact(got, want.exact, want.torch_out)
    else:
        comparison = compare_numeric(got, want.exact, want.torch_out, case.dtype)
    status = "pass" if comparison.passed else "fail"
    message = comparison.reason
    if want.torch_crash is not None:
        comparison.torch_off_reference = True
        message = f"{message}; " if message else ""
        message += f"torch itself fails here ({_describe(want.torch_crash)}): judged against the reference alone"
    return Result(name, case, status, message, comparison, **timing)


class CaseFailed(AssertionError):
    """Raised inside Hypothesis so that it shrinks a failing case."""

    def __init__(self, result: Result) -> None:
        super().__init__(f"{result.case.describe()}: {result.status}: {result.message}")
        self.result = result


@dataclass
class CellOutcome:
    """Counts over the generated cases of one (backend, op, mode) cell, and the
    minimal failing case if any failed."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    minimal: Result | None = None


def shared_dtypes(op: str, backend: Backend, oracle: Oracle) -> Callable[[str, bool], list[str]]:
    """``dtypes_for(mode, antialias)``: the dtypes both the backend and torch take."""

    def dtypes_for(m: str, antialias: bool) -> list[str]:
        params = {"mode": m, "antialias": antialias}
        return [
            d
            for d in DTYPES
            if oracle.torch.unsupported_reason(op, d, params) is None
            and backend.unsupported_reason(op, d, params) is None
        ]

    return dtypes_for


def case_strategy(op: str, mode: str, backend: Backend, oracle: Oracle) -> st.SearchStrategy[Case] | None:
    """Hypothesis strategy for one cell; ``None`` when the backend and torch
    share no dtype there (the cell is then reported unsupported)."""
    dtypes_for = shared_dtypes(op, backend, oracle)
    if op == "interpolate":
        flags = [False, True] if mode in ANTIALIAS_MODES else [False]
        if not any(dtypes_for(mode, aa) for aa in flags):
            return None
        return interpolate_cases(mode, dtypes_for)
    raise KeyError(op)


def fixed_cases(op: str, mode: str, backend: Backend, oracle: Oracle) -> list[Case]:
    if op == "interpolate":
        return fixed_interpolate_cases(mode, shared_dtypes(op, backend, oracle))
    return []


def search_cell(
    backend: Backend,
    spec: str,
    op: str,
    mode: str,
    oracle: Oracle,
    examples: int,
    seed_value: int,
    record: Callable[[Result], None],
    extra_cases: Iterable[Case] = (),
) -> CellOutcome:
    """Check ``examples`` Hypothesis-drawn cases (plus the fixed large ones) of
    one cell, recording each result; if any failed, let Hypothesis shrink the
    first failure it meets to a minimal case and record that with its repro."""
    outcome = CellOutcome()
    first_failure: list[Result] = []

    def note(result: Result) -> None:
        outcome.counts[result.status] += 1
        if result.status in ("fail", "error") and not first_failure:
            first_failure.append(result)
        record(result)

    for case in [*fixed_cases(op, mode, backend, oracle), *extra_cases]:
        note(check_case(case, backend, spec, oracle))

    strategy = case_strategy(op, mode, backend, oracle)
    if strategy is None:
        probe = Case(op, InputSpec((1, 1, 1), "float32"), {"mode": mode})
        note(Result(backend.name, probe, "unsupported", f"{backend.name} takes no dtype torch takes in {op} {mode}"))
        return outcome
    common = dict(
        database=None,
        deadline=None,
        print_blob=False,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
    )

    @seed(seed_value)
    @settings(max_examples=examples, phases=[Phase.generate], **common)
    @given(strategy)
    def explore(case: Case) -> None:
        note(check_case(case, backend, spec, oracle))

    try:
        explore()
    except Unsatisfiable:
        note(
            Result(
                backend.name,
                Case(op, InputSpec((1, 1, 1), "float32"), {"mode": mode}),
                "unsupported",
                f"no valid {op} {mode} case for {backend.name}'s dtypes",
            )
        )
    if outcome.counts["fail"] + outcome.counts["error"] == 0:
        return outcome

    @seed(seed_value)
    @settings(max_examples=examples, phases=[Phase.generate, Phase.shrink], **common)
    @given(strategy)
    def shrink(case: Case) -> None:
        result = check_case(case, backend, spec, oracle)
        if result.status in ("fail", "error"):
            raise CaseFailed(result)

    try:
        shrink()
        # Only fixed cases failed (Hypothesis met none): report the first as is.
        minimal = first_failure[0]
    except CaseFailed as failed:
        minimal = failed.result
    minimal = Result(**{**minimal.__dict__, "minimal": True, "repro": minimal.case.repro(spec)})
    outcome.minimal = minimal
    record(minimal)
    return outcome
