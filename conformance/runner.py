"""Run cases: materialise the input once, call the oracles and the backend,
compare, time, and search with Hypothesis for a minimal failing case."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable

import reference
from backends import DTYPES, Backend, Unsupported
from backends.reference_backend import to_dtype
from backends.torch_dtypes import ALIAS_MODES
from conformance.cases import Case, InputSpec
from conformance.strategies import (
    UPSAMPLE_MODES,
    alias_cases,
    backward_case,
    conv_transpose_cases,
    fixed_interpolate_cases,
    fixed_large_cases,
    interpolate_cases,
    max_pool_cases,
    max_unpool_cases,
    pixel_shuffle_cases,
)
from conformance.tolerance import Comparison, compare_exact, compare_numeric
from reference.aliases import INTERPOLATE_ARGS
from reference.gradients import DIFFERENTIABLE
from reference.gradients import vjp as reference_vjp
from reference.interpolate import ANTIALIAS_MODES, DATA_MOVEMENT_MODES, MODE_RANKS

RANK_CELLS = ("1d", "2d", "3d")
#: Ops the harness can check, and the cells of each (interpolate and the
#: mode-taking aliases: modes; conv_transpose and pooling: spatial rank).
OP_CELLS: dict[str, tuple[str, ...]] = {
    "interpolate": tuple(MODE_RANKS),
    "conv_transpose": RANK_CELLS,
    "max_pool": RANK_CELLS,
    "max_unpool": RANK_CELLS,
    "pixel_shuffle": ("all",),
    "pixel_unshuffle": ("all",),
    "upsample": UPSAMPLE_MODES,
    "Upsample": UPSAMPLE_MODES,
    "upsample_nearest": ("all",),
    "UpsamplingNearest2d": ("all",),
    "upsample_bilinear": ("all",),
    "UpsamplingBilinear2d": ("all",),
}

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
    #: ``{"isolation": "crash" | "timeout", "phase": ...}`` when the worker died.
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any], case: Case, backend: str) -> Result:
        comparison = data.get("comparison")
        return cls(
            backend,
            case,
            data["status"],
            data.get("message", ""),
            Comparison(**comparison) if comparison else None,
            data.get("time_s"),
            data.get("torch_time_s"),
            extra={k: data[k] for k in ("isolation", "phase", "deterministic", "transfer_s") if k in data},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "type": "result",
            "backend": self.backend,
            "op": self.case.op,
            "mode": self.case.mode,
            "dtype": self.case.dtype,
            "status": self.status,
            "message": self.message,
            "direction": self.case.direction,
            "case": self.case.to_json(),
            "comparison": self.comparison.to_json() if self.comparison else None,
            "time_s": self.time_s,
            "torch_time_s": self.torch_time_s,
            "minimal": self.minimal,
            "repro": self.repro,
        }


#: Ops that only move data: results must match bit for bit.
DATA_MOVEMENT_OPS = frozenset({"max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle"})


def effective_mode(case: Case) -> str | None:
    """The interpolate mode a case runs (aliases included), else ``None``."""
    if case.op == "interpolate" or case.op in ALIAS_MODES:
        return ALIAS_MODES.get(case.op) or case.params.get("mode", "nearest")
    return None


#: Gradients that only move data (the rest sum several cotangents per input).
DATA_MOVEMENT_GRADIENTS = frozenset({"max_unpool", "pixel_shuffle", "pixel_unshuffle"})


def op_key(case: Case) -> str:
    """What ``unsupported_reason`` is asked about: the op, or ``op:backward``."""
    return f"{case.op}:backward" if case.direction == "backward" else case.op


def is_exact(case: Case) -> bool:
    """Whether the op moves data only (then results must match bit for bit)."""
    if case.direction == "backward":
        return case.op in DATA_MOVEMENT_GRADIENTS
    return case.op in DATA_MOVEMENT_OPS or effective_mode(case) in DATA_MOVEMENT_MODES


def _as_tuple(out: Any) -> tuple[Any, ...]:
    return tuple(out) if isinstance(out, tuple) else (out,)


def _invoke(
    backend: Any, case: Case, args: dict[str, Any], op: str | None = None, params: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """Call the case on the backend's arrays ``args``: the op itself, or for a
    backward case its ``vjp``, whose gradients come back in
    ``DIFFERENTIABLE`` order."""
    args = dict(args)
    x = args.pop("x")
    params = case.params if params is None else params
    if case.direction == "backward":
        grads = backend.vjp(case.op, args.pop("grad_output"), x, **args, **params)
        order = [n for n in DIFFERENTIABLE[case.op] if n in grads]
        if set(order) != set(grads):
            raise TypeError(f"vjp returned gradients for {sorted(grads)}; expected {list(DIFFERENTIABLE[case.op])}")
        return tuple(grads[n] for n in order)
    return _as_tuple(getattr(backend, op or case.op)(x, **args, **params))


def _call(
    backend: Backend,
    case: Case,
    arrays: dict[str, np.ndarray],
    op: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[tuple[np.ndarray, ...], float]:
    """Convert the inputs (the caller's to give away), run ``op`` between two
    ``synchronize()`` calls, and read the outputs back."""
    args = {name: backend.from_numpy(a) for name, a in arrays.items()}
    backend.synchronize()
    start = time.perf_counter()
    out = _invoke(backend, case, args, op, params)
    backend.synchronize()
    elapsed = time.perf_counter() - start
    return tuple(np.asarray(backend.to_numpy(o)) for o in out), elapsed


def _call_checked(
    backend: Backend, case: Case, arrays: dict[str, np.ndarray], pristine: dict[str, np.ndarray]
) -> tuple[tuple[np.ndarray, ...], tuple[float, float], tuple[type, ...], type, str]:
    """``_call`` on ``arrays`` as they are (their memory layout is part of the
    case) that also returns the times of the op and of the input transfer
    (``from_numpy``: host to device, on a GPU), the types of the raw outputs,
    the backend's array type, and the names of the inputs the backend modified
    (compared with ``pristine`` copies)."""
    backend.synchronize()
    start = time.perf_counter()
    args = {name: backend.from_numpy(a) for name, a in arrays.items()}
    backend.synchronize()
    transfer = time.perf_counter() - start
    array_type = type(args["x"])
    start = time.perf_counter()
    outs = _invoke(backend, case, args)
    backend.synchronize()
    elapsed = time.perf_counter() - start
    got = tuple(np.asarray(backend.to_numpy(o)) for o in outs)
    mutated = [
        name
        for name, a in args.items()
        if not np.array_equal(np.asarray(backend.to_numpy(a)), pristine[name], equal_nan=True)
    ]
    return got, (elapsed, transfer), tuple(type(o) for o in outs), array_type, ", ".join(mutated)


def _no_phase(name: str) -> None:
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


@dataclass
class Expected:
    """What the oracles say about a case: torch's outputs (or exception) and
    the exact reference results (or exception)."""

    torch_out: tuple[np.ndarray, ...] | None
    torch_exc: BaseException | None
    torch_time_s: float | None
    exact: tuple[np.ndarray, ...] | None
    reference_exc: BaseException | None
    torch_crash: BaseException | None = None
    magnitudes: tuple[float | None, ...] = ()


class TorchFailed(Exception):
    """torch crashed or hung on a case (seen by the worker's parent)."""


def _is_torch_crash(exc: BaseException) -> bool:
    """A torch bug, not an argument error: a crash or hang of torch, an internal
    assertion, or autograd rejecting the gradient one of torch's own backward
    functions returned."""
    text = str(exc)
    return isinstance(exc, TorchFailed) or "INTERNAL ASSERT FAILED" in text or "returned an invalid gradient" in text


def _reference(case: Case, arrays: dict[str, np.ndarray], absolute: bool = False) -> tuple[np.ndarray, ...]:
    """The reference's outputs for the case (float64 where the op computes)."""
    inputs = {name: a.copy() for name, a in arrays.items()}
    x = inputs.pop("x")
    if case.direction == "backward":
        g = inputs.pop("grad_output")
        grads = reference_vjp(case.op, g, x, absolute=absolute, **inputs, **case.params)
        return tuple(grads[n] for n in DIFFERENTIABLE[case.op] if n in grads)
    return _as_tuple(getattr(reference, case.op)(x, **inputs, **case.params))


def _magnitudes(case: Case, arrays: dict[str, np.ndarray], n: int) -> tuple[float | None, ...]:
    """For sums of many products, the scale rounding errors grow with: per
    output, the largest sum of absolute terms (conv_transpose: ``|x| (*) |w| +
    |b|``; gradients: the adjoint applied to magnitudes).  ``None``: the
    default, the largest ``|result|``."""
    if case.direction == "backward":
        return tuple(float(np.max(m, initial=0.0)) for m in _reference(case, arrays, absolute=True))
    if case.op != "conv_transpose":
        return (None,) * n
    absolute = {name: np.abs(a.astype(np.float64)) for name, a in arrays.items()}
    x = absolute.pop("x")
    return (float(np.max(reference.conv_transpose(x, **absolute, **case.params), initial=0.0)),)


class Oracle:
    """torch (on the CPU unless told otherwise) and the float64 reference."""

    def __init__(self, torch_backend: Backend | None = None) -> None:
        if torch_backend is None:
            from backends.torch_backend import TorchBackend

            torch_backend = TorchBackend()
        self.torch = torch_backend

    def expected(
        self,
        case: Case,
        arrays: dict[str, np.ndarray],
        phase: Callable[[str], None] = _no_phase,
        torch_failure: str | None = None,
    ) -> Expected:
        """``torch_failure``: torch is known to crash or hang on this case (so
        it is not run, and the reference alone decides)."""
        torch_out = torch_exc = exact = ref_exc = None
        torch_time = None
        phase("torch")
        if torch_failure is not None:
            torch_exc = TorchFailed(torch_failure)
        else:
            try:
                torch_out, torch_time = _call(self.torch, case, {name: a.copy() for name, a in arrays.items()})
            except Exception as exc:  # torch's exception is the expected behaviour
                torch_exc = exc
        phase("reference")
        try:
            exact = _reference(case, arrays)
        except Exception as exc:
            ref_exc = exc
        crashed = None
        if torch_exc is not None and _is_torch_crash(torch_exc) and exact is not None:
            # torch's own bug is no contract: judge against the reference alone,
            # as if torch had returned the correctly rounded result.
            crashed, torch_exc = torch_exc, None
            torch_out = tuple(to_dtype(e, arrays["x"].dtype) if e.dtype == np.float64 else e for e in exact)
        magnitudes = _magnitudes(case, arrays, len(exact)) if exact is not None else ()
        return Expected(torch_out, torch_exc, torch_time, exact, ref_exc, crashed, magnitudes)


def _compare(case: Case, got: tuple[np.ndarray, ...], want: Expected) -> tuple[Comparison, list[float]]:
    """Each output against the reference; the first that does not conform
    decides (max_pool: values, then indices).  Also each output's bound."""
    assert want.exact is not None and want.torch_out is not None
    comparisons = []
    for g, e, t, magnitude in zip(got, want.exact, want.torch_out, want.magnitudes):
        if is_exact(case) or e.dtype != np.float64:
            comparisons.append(compare_exact(g.astype(e.dtype) if e.dtype == np.float64 else g, e, t))
        else:
            comparisons.append(compare_numeric(g, e, t, case.dtype, magnitude))
    failing = [c for c in comparisons if not c.passed]
    worst = failing[0] if failing else comparisons[0]
    worst.torch_off_reference = any(c.torch_off_reference for c in comparisons)
    return worst, [c.bound for c in comparisons]


def _layout_problem(
    case: Case, backend: Backend, arrays: dict[str, np.ndarray], got: tuple[np.ndarray, ...], bounds: list[float]
) -> str | None:
    """A non-contiguous, negative-stride or Fortran-ordered input must give what
    a contiguous copy of it gives: the same bits where the op moves data, and
    within the case's error bound where a layout may change the summation
    order (BLAS picks its kernels by stride)."""
    if all(a.flags.c_contiguous for a in arrays.values()):
        return None
    contiguous = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    again, _ = _call(backend, case, contiguous)
    for g, c, bound in zip(got, again, bounds):
        if g.shape != c.shape:
            same = False
        elif is_exact(case) or g.dtype.kind not in "fc":
            same = np.array_equal(g, c, equal_nan=True)
        else:
            diff = np.abs(g.astype(np.float64) - c.astype(np.float64))
            same = bool(np.all((diff <= bound) | (np.isnan(g) & np.isnan(c))))
        if not same:
            return f"gives other results for the {case.input.layout} input than for a contiguous copy of it"
    return None


def check_case(
    case: Case,
    backend: Backend,
    spec: str,
    oracle: Oracle,
    phase: Callable[[str], None] = _no_phase,
    torch_failure: str | None = None,
) -> Result:
    """Run ``case`` on ``backend`` and judge it against torch and the reference.

    ``phase`` is told which step is running (``materialize``, ``torch``,
    ``reference``, ``backend``, ``compare``): a worker process reports it, so
    that a crash or hang is blamed on the right party."""
    name = backend.name
    reason = backend.unsupported_reason(op_key(case), case.dtype, case.params)
    if reason:
        return Result(name, case, "unsupported", reason)
    phase("materialize")
    arrays = case.materialize()  # in the case's memory layout, for the backend
    pristine = {name: a.copy() for name, a in arrays.items()}
    want = oracle.expected(case, pristine, phase, torch_failure)
    phase("backend")
    try:
        got, (elapsed, transfer), out_types, array_type, mutated = _call_checked(backend, case, arrays, pristine)
    except Unsupported as exc:
        return Result(name, case, "unsupported", str(exc) or "raised Unsupported")
    except Exception as exc:
        if want.torch_exc is not None:
            if type(exc) is type(want.torch_exc):
                words = case.names_problem
                if words and not any(w.lower() in str(exc).lower() for w in words):
                    return Result(
                        name,
                        case,
                        "fail",
                        f"raised {_describe(exc)} as torch does, but the message "
                        f"does not name the problem (mentions none of {', '.join(words)})",
                    )
                return Result(name, case, "pass", f"raised {type(exc).__name__} as torch does")
            return Result(name, case, "fail", f"raised {_describe(exc)}; torch raises {_describe(want.torch_exc)}")
        return Result(
            name, case, "error", f"raised {_describe(exc)}; torch returns a result", torch_time_s=want.torch_time_s
        )
    phase("compare")
    timing = {"time_s": elapsed, "torch_time_s": want.torch_time_s}
    if case.names_problem and want.torch_exc is None:
        return Result(
            name, case, "error", "this invalid-call catalog entry is accepted by torch: fix the entry", **timing
        )
    if mutated:
        return Result(name, case, "fail", f"modified its input {mutated}", **timing)
    if want.torch_exc is not None:
        return Result(name, case, "fail", f"returned a result; torch raises {_describe(want.torch_exc)}", **timing)
    assert want.torch_out is not None
    wrong = [t.__name__ for t in out_types if not issubclass(t, array_type)]
    if wrong:
        return Result(
            name, case, "fail", f"returned {', '.join(wrong)}, not its array type {array_type.__name__}", **timing
        )
    if len(got) != len(want.torch_out):
        return Result(
            name, case, "fail", f"returned {len(got)} array(s); torch returns {len(want.torch_out)}", **timing
        )
    for g, t in zip(got, want.torch_out):
        if g.shape != t.shape:
            return Result(name, case, "fail", f"shape {list(g.shape)}; torch gives {list(t.shape)}", **timing)
        if g.dtype != t.dtype:
            return Result(name, case, "fail", f"dtype {g.dtype}; torch gives {t.dtype}", **timing)
    if want.exact is None:
        return Result(name, case, "error", f"the reference raised {_describe(want.reference_exc)}", **timing)
    comparison, bounds = _compare(case, got, want)
    status = "pass" if comparison.passed else "fail"
    message = comparison.reason
    if status == "pass":
        problem = _layout_problem(case, backend, case.materialize(), got, bounds)
        if problem:
            status, message = "fail", problem
    extra: dict[str, Any] = {"transfer_s": transfer}
    if case.direction == "backward":
        # Determinism: the same gradient twice must give the same bits (reported, not failed).
        again, _ = _call(backend, case, case.materialize())
        extra["deterministic"] = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(got, again))
    if status == "pass" and case.op in ALIAS_MODES:
        # An alias must be exactly the interpolate call it stands for, on the same backend.
        equivalent = INTERPOLATE_ARGS[case.op](**case.params)
        try:
            direct, _ = _call(backend, case, case.materialize(), "interpolate", equivalent)
        except Exception as exc:
            direct, message = None, f"its interpolate({equivalent}) raised {_describe(exc)}"
        if direct is None or not np.array_equal(direct[0], got[0], equal_nan=True):
            status = "fail"
            message = message or f"differs from its own interpolate(**{equivalent})"
    if want.torch_crash is not None:
        comparison.torch_off_reference = True
        message = f"{message}; " if message else ""
        message += f"torch itself fails here ({_describe(want.torch_crash)}): judged against the reference alone"
    return Result(name, case, status, message, comparison, **timing, extra=extra)


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


def shared_dtypes(
    op: str, backend: Backend, oracle: Oracle, only: Sequence[str] | None = None, direction: str = "forward"
) -> Callable[[str, bool], list[str]]:
    """``dtypes_for(mode, antialias)``: the dtypes (among ``only``, if given) that
    both the backend and torch take (``mode`` and ``antialias`` matter to
    interpolate and its aliases only)."""

    key = f"{op}:backward" if direction == "backward" else op

    def dtypes_for(m: str, antialias: bool) -> list[str]:
        params = {"mode": m, "antialias": antialias}
        return [
            d
            for d in (only or DTYPES)
            if oracle.torch.unsupported_reason(key, d, params) is None
            and backend.unsupported_reason(key, d, params) is None
        ]

    return dtypes_for


def case_strategy(
    op: str,
    cell: str,
    backend: Backend,
    oracle: Oracle,
    only: Sequence[str] | None = None,
    direction: str = "forward",
) -> st.SearchStrategy[Case] | None:
    """Hypothesis strategy for one cell; ``None`` when the backend and torch
    share no dtype there (the cell is then reported unsupported).  Backward
    cells draw the forward cases and add a cotangent (``backward_case``)."""
    forward = _forward_strategy(op, cell, shared_dtypes(op, backend, oracle, only, direction))
    if forward is None or direction == "forward":
        return forward
    return forward.map(backward_case).filter(lambda case: case is not None)


def _forward_strategy(
    op: str, cell: str, dtypes_for: Callable[[str, bool], list[str]]
) -> st.SearchStrategy[Case] | None:
    if op == "interpolate":
        flags = [False, True] if cell in ANTIALIAS_MODES else [False]
        if not any(dtypes_for(cell, aa) for aa in flags):
            return None
        return interpolate_cases(cell, dtypes_for)
    if op in ALIAS_MODES:
        mode = ALIAS_MODES[op] or cell
        if not dtypes_for(mode, False):
            return None
        return alias_cases(op, mode, dtypes_for)
    dtypes = dtypes_for("", False)
    if not dtypes:
        return None
    if op in ("pixel_shuffle", "pixel_unshuffle"):
        return pixel_shuffle_cases(op, dtypes)
    rank = RANK_CELLS.index(cell) + 1
    return {"conv_transpose": conv_transpose_cases, "max_pool": max_pool_cases, "max_unpool": max_unpool_cases}[op](
        rank, dtypes
    )


def fixed_cases(
    op: str,
    cell: str,
    backend: Backend,
    oracle: Oracle,
    only: Sequence[str] | None = None,
    direction: str = "forward",
) -> list[Case]:
    """A few large cases per cell: the paths small inputs never take (forward
    only: backward cells run the same paths on drawn cases)."""
    if direction == "backward":
        return []
    dtypes_for = shared_dtypes(op, backend, oracle, only)
    if op == "interpolate":
        return fixed_interpolate_cases(cell, dtypes_for)
    return [c for c in fixed_large_cases(op, cell) if c.dtype in dtypes_for(c.params.get("mode", ""), False)]


#: A cell stops exploring after this many crashes or hangs in a row (each
#: costs a worker restart or a timeout); its first failure is still shrunk.
GIVE_UP_AFTER = 3


class _GiveUp(Exception):
    """Raised out of Hypothesis to stop a cell whose backend keeps crashing."""


#: Seconds a cell's shrinking may take before the smallest failure so far is reported.
DEFAULT_SHRINK_SECONDS = 60.0


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
    dtypes: Sequence[str] | None = None,
    checker: Callable[[Case], Result] | None = None,
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
    direction: str = "forward",
) -> CellOutcome:
    """Check ``examples`` Hypothesis-drawn cases (plus the fixed large ones) of
    one cell, recording each result; if any failed, let Hypothesis shrink the
    first failure it meets to a minimal case and record that with its repro.

    ``checker`` runs one case (default: in this process; the CLI passes an
    ``IsolatedChecker``'s).  Shrinking stops after ``shrink_seconds`` with the
    smallest failure met so far: a hanging backend costs a timeout per try."""
    check = checker or (lambda case: check_case(case, backend, spec, oracle))
    outcome = CellOutcome()
    first_failure: list[Result] = []

    streak = [0]  # consecutive crashes or hangs

    def note(result: Result) -> None:
        outcome.counts[result.status] += 1
        if result.status in ("fail", "error") and not first_failure:
            first_failure.append(result)
        record(result)
        streak[0] = streak[0] + 1 if result.extra.get("isolation") else 0
        if streak[0] >= GIVE_UP_AFTER:
            raise _GiveUp

    try:
        for case in [*fixed_cases(op, mode, backend, oracle, dtypes, direction), *extra_cases]:
            note(check(case))
    except _GiveUp:
        pass

    strategy = case_strategy(op, mode, backend, oracle, dtypes, direction)
    if strategy is None:
        probe = Case(op, InputSpec((1, 1, 1), "float32"), {"mode": mode}, direction=direction)
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
        note(check(case))

    try:
        if streak[0] < GIVE_UP_AFTER:
            explore()
    except _GiveUp:
        pass
    except Unsatisfiable:
        note(
            Result(
                backend.name,
                Case(op, InputSpec((1, 1, 1), "float32"), {"mode": mode}, direction=direction),
                "unsupported",
                f"no valid {op} {mode} case for {backend.name}'s dtypes",
            )
        )
    if outcome.counts["fail"] + outcome.counts["error"] == 0:
        return outcome

    smallest: list[Result] = []
    deadline = time.monotonic() + shrink_seconds

    @seed(seed_value)
    @settings(max_examples=examples, phases=[Phase.generate, Phase.shrink], **common)
    @given(strategy)
    def shrink(case: Case) -> None:
        if smallest and time.monotonic() > deadline:
            return  # out of time: every further try "passes", ending the shrink
        result = check(case)
        if result.status in ("fail", "error"):
            smallest[:] = [result]
            raise CaseFailed(result)

    try:
        shrink()
        # Only fixed cases failed (Hypothesis met none): report the first as is.
        minimal = smallest[0] if smallest else first_failure[0]
    except CaseFailed as failed:
        minimal = failed.result
    except Flaky:
        minimal = smallest[0]  # the shrink ran out of time
    minimal = Result(**{**minimal.__dict__, "minimal": True, "repro": minimal.case.repro(spec)})
    outcome.minimal = minimal
    record(minimal)
    return outcome


def check_catalog(
    op: str,
    backend: Backend,
    spec: str,
    oracle: Oracle,
    record: Callable[[Result], None],
    checker: Callable[[Case], Result] | None = None,
) -> CellOutcome:
    """Check the invalid-call catalog's entries for ``op`` (no search: each
    entry is a fixed call torch refuses)."""
    from conformance.catalog import invalid_calls

    check = checker or (lambda case: check_case(case, backend, spec, oracle))
    outcome = CellOutcome()
    for case in invalid_calls([op]):
        result = check(case)
        outcome.counts[result.status] += 1
        record(result)
    return outcome
