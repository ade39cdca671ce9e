"""The verdict on one case: an ordered list of small named checks.

``check_case`` runs the case (``conformance.execute``), then asks each check
in ``CHECKS`` in turn; the first that objects decides the result, and a case
all of them accept passes.  The order is the order a person debugs in:

1. ``exceptions``   the backend raises where torch raises, with torch's class
                    and a message naming the problem; returns where torch returns
2. ``outputs``      as many outputs as torch, of the backend's own array type,
                    with torch's shapes and dtypes
3. ``values``       within the tolerance policy of the exact reference
   ``residual_path`` (backward) the gradients through the backend's residuals
                    (``forward_with_residuals``, ``vjp_from_residuals``), where
                    it has them, pass ``outputs`` and ``values`` too
4. ``hygiene``      inputs left unmodified; the same result for a
                    non-contiguous input as for a contiguous copy of it
5. ``alias``        an alias equals the interpolate call it stands for, bit for bit
6. ``determinism``  (backward) the same bits twice: recorded, not failed
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backends import Backend, Unsupported
from conformance import ops
from conformance.cases import Case
from conformance.execute import Expected, Observation, Oracle, Phase, call, describe, no_phase, observe
from conformance.results import Result
from conformance.tolerance import Comparison, compare_exact, compare_numeric
from conformance.windows import failure_values


@dataclass
class Trial:
    """One case run on a backend, and what the checks found so far."""

    case: Case
    backend: Backend
    want: Expected
    seen: Observation | None = None
    raised: BaseException | None = None
    comparison: Comparison | None = None
    bounds: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return ops.get(self.case.op).is_exact(self.case)

    def result(self, status: str, message: str = "") -> Result:
        timing: dict[str, Any] = {"torch_time_s": self.want.torch_time_s}
        if self.seen is not None:
            timing["time_s"] = self.seen.time_s
        return Result(self.backend.name, self.case, status, message, self.comparison, **timing, extra=self.extra)


Check = Callable[[Trial], Result | None]


def exceptions(trial: Trial) -> Result | None:
    """Exceptions are part of the contract: raise where torch raises, with its
    class and a message that names the problem; never where torch returns."""
    want, case, exc = trial.want, trial.case, trial.raised
    if exc is None:
        if case.names_problem and want.torch_exc is None:
            return trial.result("error", "this invalid-call catalog entry is accepted by torch: fix the entry")
        if want.torch_exc is not None:
            _what_each_did(trial)
            return trial.result("fail", f"returned a result; torch raises {describe(want.torch_exc)}")
        return None
    _what_each_did(trial)
    if want.torch_exc is None:
        return trial.result("error", f"raised {describe(exc)}; torch returns a result")
    if type(exc) is not type(want.torch_exc):
        return trial.result("fail", f"raised {describe(exc)}; torch raises {describe(want.torch_exc)}")
    words = case.names_problem
    if words and not any(w.lower() in str(exc).lower() for w in words):
        return trial.result(
            "fail",
            f"raised {describe(exc)} as torch does, but the message does not name the problem "
            f"(mentions none of {', '.join(words)})",
        )
    return trial.result("pass", f"raised {type(exc).__name__} as torch does")


def _what_each_did(trial: Trial) -> None:
    """Where torch or the backend raised: what each did, for the failure card
    (``exceptions``: ``{"torch": ..., "backend": ...}``, display texts)."""

    def did(exc: BaseException | None, out: Any) -> str:
        if exc is not None:
            return f"raised {describe(exc)}"
        shapes = ", ".join(f"{o.dtype}{list(o.shape)}" for o in out or ())
        return f"returned {shapes}" if shapes else "returned a result"

    seen = trial.seen.outputs if trial.seen is not None else None
    trial.extra["exceptions"] = {
        "torch": did(trial.want.torch_exc, trial.want.torch_out),
        "backend": did(trial.raised, seen),
    }


def outputs(trial: Trial) -> Result | None:
    """As many outputs as torch, each the backend's array type, with torch's
    shape and dtype."""
    seen, torch_out = trial.seen, trial.want.torch_out
    assert seen is not None and torch_out is not None
    wrong = [t.__name__ for t in seen.output_types if not issubclass(t, seen.array_type)]
    if wrong:
        return trial.result("fail", f"returned {', '.join(wrong)}, not its array type {seen.array_type.__name__}")
    if len(seen.outputs) != len(torch_out):
        return trial.result("fail", f"returned {len(seen.outputs)} array(s); torch returns {len(torch_out)}")
    for g, t in zip(seen.outputs, torch_out):
        if g.shape != t.shape:
            return trial.result("fail", f"shape {list(g.shape)}; torch gives {list(t.shape)}")
        if g.dtype != t.dtype:
            return trial.result("fail", f"dtype {g.dtype}; torch gives {t.dtype}")
    return None


def values(trial: Trial) -> Result | None:
    """Each output against the exact reference under the tolerance policy; the
    first that does not conform decides (max_pool: values, then indices)."""
    want, seen = trial.want, trial.seen
    assert seen is not None and want.torch_out is not None
    if want.exact is None:
        return trial.result("error", f"the reference raised {describe(want.reference_exc)}")
    comparisons = []
    for g, e, t, magnitude in zip(seen.outputs, want.exact, want.torch_out, want.magnitudes):
        # a rounded result (float64, or complex128 for complex) is measured; any other is exact
        if trial.exact or e.dtype not in (np.float64, np.complex128):
            comparisons.append(compare_exact(g.astype(e.dtype) if e.dtype == np.float64 else g, e, t))
        else:
            comparisons.append(compare_numeric(g, e, t, trial.case.dtype, magnitude))
    failing = [c for c in comparisons if not c.passed]
    trial.comparison = failing[0] if failing else comparisons[0]
    trial.comparison.torch_off_reference = any(c.torch_off_reference for c in comparisons)
    trial.bounds = [c.bound for c in comparisons]
    return trial.result("fail", trial.comparison.reason) if failing else None


def residual_path(trial: Trial) -> Result | None:
    """(backward, on a backend with the residual path) the gradients of
    ``forward_with_residuals`` then ``vjp_from_residuals`` pass the same
    ``outputs`` and ``values`` checks as the plain ``vjp``'s."""
    seen = trial.seen
    if seen is None or (seen.residual_outputs is None and seen.residual_error is None):
        return None
    what = "through its residuals (forward_with_residuals, vjp_from_residuals)"
    if seen.residual_error is not None:
        return trial.result("fail", f"{what}: raised {seen.residual_error}; its vjp returns")
    shadow = dataclasses.replace(trial, seen=dataclasses.replace(seen, outputs=seen.residual_outputs), bounds=[])
    result = outputs(shadow) or values(shadow)
    if result is not None:
        trial.comparison = shadow.comparison
        result.message = f"{what}: {result.message}"
    return result


def hygiene(trial: Trial) -> Result | None:
    """Inputs unmodified; a non-contiguous, negative-stride or Fortran-ordered
    input gives what a contiguous copy of it gives: the same bits where the op
    moves data, within the case's bound where a layout may change the
    summation order (BLAS picks its kernels by stride)."""
    seen, case = trial.seen, trial.case
    assert seen is not None
    if seen.mutated:
        return trial.result("fail", f"modified its input {', '.join(seen.mutated)}")
    arrays = case.materialize()
    if all(a.flags.c_contiguous for a in arrays.values()):
        return None
    again, _ = call(trial.backend, case, {name: np.ascontiguousarray(a) for name, a in arrays.items()})
    for g, c, bound in zip(seen.outputs, again, trial.bounds):
        if g.shape != c.shape:
            same = False
        elif trial.exact or g.dtype.kind not in "fc":
            same = np.array_equal(g, c, equal_nan=True)
        else:
            # complex: the modulus of the difference (a float64 cast would drop the imaginary part)
            wide = np.complex128 if g.dtype.kind == "c" else np.float64
            with np.errstate(invalid="ignore"):  # inf - inf: judged by the NaN test beside it
                diff = np.abs(g.astype(wide) - c.astype(wide))
            same = bool(np.all((diff <= bound) | (np.isnan(g) & np.isnan(c)) | (g == c)))
        if not same:
            return trial.result("fail", f"gives other results for the {case.input.layout} input than for a contiguous copy of it")
    return None


def alias(trial: Trial) -> Result | None:
    """An alias must be exactly the interpolate call it stands for, on the same backend."""
    info, case, seen = ops.get(trial.case.op), trial.case, trial.seen
    if info.alias_of is None or case.direction != "forward":
        return None
    assert seen is not None
    equivalent = info.interpolate_args(case.params)
    try:
        direct, _ = call(trial.backend, case, case.materialize(), "interpolate", equivalent)
    except Exception as exc:
        return trial.result("fail", f"its interpolate({equivalent}) raised {describe(exc)}")
    if not np.array_equal(direct[0], seen.outputs[0], equal_nan=True):
        return trial.result("fail", f"differs from its own interpolate(**{equivalent})")
    return None


def determinism(trial: Trial) -> Result | None:
    """The same gradient twice must give the same bits (recorded, not failed:
    torch's own CUDA backward uses atomics)."""
    seen = trial.seen
    if trial.case.direction == "backward" and seen is not None:
        again, _ = call(trial.backend, trial.case, trial.case.materialize())
        trial.extra["deterministic"] = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(seen.outputs, again))
    return None


#: The checks, in order (see the module docstring); the first to object decides.
CHECKS: tuple[Check, ...] = (exceptions, outputs, values, residual_path, hygiene, alias, determinism)


def _run(
    case: Case, backend: Backend, oracle: Oracle, phase: Phase, torch_failure: str | None, want: Expected | None
) -> Trial | Result:
    """Materialise the inputs, ask the oracles (unless ``want`` is their answer already), run the backend."""
    phase("materialize")
    arrays = case.materialize()  # in the case's memory layout, for the backend
    pristine = {name: a.copy() for name, a in arrays.items()}
    trial = Trial(case, backend, want or oracle.expected(case, pristine, phase, torch_failure))
    phase("backend")
    try:
        trial.seen = observe(backend, case, arrays, pristine)
        trial.extra["transfer_s"] = trial.seen.transfer_s
    except Unsupported as exc:
        return Result(backend.name, case, "unsupported", str(exc) or "raised Unsupported")
    except Exception as exc:
        trial.raised = exc
    return trial


def _values_shown(trial: Trial) -> dict[str, Any] | None:
    """The small windows a failure card shows (stored with the result)."""
    outputs_by_side = {"torch": trial.want.torch_out, "reference": trial.want.exact}
    if trial.seen is not None:
        outputs_by_side["backend"] = trial.seen.outputs
    present = {side: out for side, out in outputs_by_side.items() if out is not None}
    if not present or trial.case.names_problem or trial.want.torch_exc is not None:
        return None  # an invalid call, or torch raised: there are no values to set side by side
    cmp = trial.comparison.to_json() if trial.comparison is not None else None
    try:
        return failure_values(trial.case.dtype, present, cmp, trial.backend.name)
    except Exception as exc:  # a failure card without values beats a lost result
        return {"notes": [f"values could not be recorded: {describe(exc)}"]}


def check_case(
    case: Case, backend: Backend, oracle: Oracle, phase: Phase = no_phase, torch_failure: str | None = None
) -> Result:
    """Run ``case`` on ``backend`` and judge it against torch and the reference.

    ``phase`` is told which step is running (``materialize``, ``torch``,
    ``reference``, ``backend``, ``compare``): a worker process reports it, so
    that a crash or hang is blamed on the right party.  ``torch_failure``:
    torch is known to crash or hang here; the reference alone decides."""
    return judge_case(case, backend, oracle, phase, torch_failure)[0]


def judge_case(
    case: Case,
    backend: Backend,
    oracle: Oracle,
    phase: Phase = no_phase,
    torch_failure: str | None = None,
    want: Expected | None = None,
) -> tuple[Result, Expected | None]:
    """``check_case``, and what the oracles said (``None`` where the backend
    does not take the case).  ``want``: what they say about this case, already
    known (from another backend's check of it), so they are not asked again."""
    op = f"{case.op}:backward" if case.direction == "backward" else case.op
    reason = backend.unsupported_reason(op, case.dtype, case.params)
    if reason:
        return Result(backend.name, case, "unsupported", reason), None
    trial = _run(case, backend, oracle, phase, torch_failure, want)
    if isinstance(trial, Result):
        return trial, None
    phase("compare")
    result = next((r for check in CHECKS if (r := check(trial)) is not None), None) or trial.result("pass")
    if result.failed:
        result.extra["values"] = None if trial.raised is not None else _values_shown(trial)
        mutated = trial.seen.mutated if trial.seen is not None else []
        if mutated and "modified its input" not in result.message:
            # the likelier cause of whatever an earlier check saw
            result.message += f" (it also modified its input {', '.join(mutated)})"
    call_used = getattr(backend, "call_used", None)
    if callable(call_used) and not case.names_problem:
        # the library call this case maps to, for the report's library matrix
        result.extra["call"] = call_used(case.op, case.params)
    if trial.want.torch_crash is not None:
        if result.comparison is not None:
            result.comparison.torch_off_reference = True
        note = f"torch itself fails here ({describe(trial.want.torch_crash)}): judged against the reference alone"
        result.message = f"{result.message}; {note}" if result.message else note
    return result, trial.want
