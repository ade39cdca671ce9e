"""The verdict on one case: an ordered list of small named checks.

``check_case`` runs the case (``conformance.execute``), then asks each check
in ``CHECKS`` in turn; the first that objects decides the result, and a case
all of them accept passes.  The order is the order a person debugs in:

0. ``no_torch``     where torch is forbidden (``--forbid-torch``), it is not called
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

from backends import Backend
from conformance import ops
from conformance.cases import Case
from conformance.execute import Expected, Observed, Oracle, Phase, Raised, describe, no_phase, observe_case
from conformance.fpenv import FLUSHES
from conformance.results import Result
from conformance.tolerance import Comparison, compare_exact, compare_numeric
from conformance.windows import failure_values


@dataclass
class Trial:
    """One case as a backend did it (``Observed``, from its own process), the
    oracles' answer, and what the checks found so far: made on the oracle
    side, where no backend code runs."""

    case: Case
    backend: str
    want: Expected
    observed: Observed
    comparison: Comparison | None = None
    bounds: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def raised(self) -> Raised | None:
        return self.observed.raised

    @property
    def exact(self) -> bool:
        return ops.get(self.case.op).is_exact(self.case)

    def result(self, status: str, message: str = "") -> Result:
        timing: dict[str, Any] = {"torch_time_s": self.want.torch_time_s}
        if self.observed.outputs is not None:
            timing["time_s"] = self.observed.time_s
        return Result(self.backend, self.case, status, message, self.comparison, **timing, extra=self.extra)


Check = Callable[[Trial], Result | None]


def no_torch(trial: Trial) -> Result | None:
    """Where torch was forbidden (``--forbid-torch``, ``uses_torch = False``): no torch call at all."""
    calls = trial.observed.torch_calls
    if calls:
        return trial.result("fail", f"called torch ({', '.join(calls[:3])}) where it must not (--forbid-torch)")
    return None


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
        return trial.result("error", f"raised {exc.describe()}; torch returns a result")
    if not exc.is_a(want.torch_exc):
        return trial.result("fail", f"raised {exc.describe()}; torch raises {describe(want.torch_exc)}")
    words = case.names_problem
    if words and not any(w.lower() in exc.message.lower() for w in words):
        return trial.result(
            "fail",
            f"raised {exc.describe()} as torch does, but the message does not name the problem "
            f"(mentions none of {', '.join(words)})",
        )
    return trial.result("pass", f"raised {exc.name} as torch does")


def _what_each_did(trial: Trial) -> None:
    """Where torch or the backend raised: what each did, for the failure card
    (``exceptions``: ``{"torch": ..., "backend": ...}``, display texts)."""

    def did(raised: str | None, out: Any) -> str:
        if raised is not None:
            return f"raised {raised}"
        shapes = ", ".join(f"{o.dtype}{list(o.shape)}" for o in out or ())
        return f"returned {shapes}" if shapes else "returned a result"

    torch_exc = trial.want.torch_exc
    trial.extra["exceptions"] = {
        "torch": did(describe(torch_exc) if torch_exc is not None else None, trial.want.torch_out),
        "backend": did(trial.raised.describe() if trial.raised else None, trial.observed.outputs),
    }


def outputs(trial: Trial) -> Result | None:
    """As many outputs as torch, each the backend's array type, with torch's
    shape and dtype."""
    seen, torch_out = trial.observed, trial.want.torch_out
    assert seen.outputs is not None and torch_out is not None
    if seen.wrong_types:
        return trial.result("fail", f"returned {', '.join(seen.wrong_types)}, not its array type {seen.array_type}")
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
    want, seen = trial.want, trial.observed
    assert seen.outputs is not None and want.torch_out is not None
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
    seen = trial.observed
    if seen.residual_outputs is None and seen.residual_error is None:
        return None
    what = "through its residuals (forward_with_residuals, vjp_from_residuals)"
    if seen.residual_error is not None:
        return trial.result("fail", f"{what}: raised {seen.residual_error}; its vjp returns")
    shadow = dataclasses.replace(trial, observed=dataclasses.replace(seen, outputs=seen.residual_outputs), bounds=[])
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
    seen, case = trial.observed, trial.case
    assert seen.outputs is not None
    if seen.mutated:
        return trial.result("fail", f"modified its input {', '.join(seen.mutated)}")
    again = seen.contiguous
    if again is None:
        return None
    layout = f"gives other results for the {case.input.layout} input than for a contiguous copy of it"
    if isinstance(again, Raised):
        return trial.result("fail", f"{layout}: it raised {again.describe()} on the copy")
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
            return trial.result("fail", layout)
    return None


def alias(trial: Trial) -> Result | None:
    """An alias must be exactly the interpolate call it stands for, on the same backend."""
    info, case, seen = ops.get(trial.case.op), trial.case, trial.observed
    if info.alias_of is None or case.direction != "forward":
        return None
    assert seen.outputs is not None
    equivalent = info.interpolate_args(case.params)
    if isinstance(seen.alias, Raised):
        return trial.result("fail", f"its interpolate({equivalent}) raised {seen.alias.describe()}")
    if seen.alias is None or not np.array_equal(seen.alias[0], seen.outputs[0], equal_nan=True):
        return trial.result("fail", f"differs from its own interpolate(**{equivalent})")
    return None


def determinism(trial: Trial) -> Result | None:
    """The same gradient twice must give the same bits (recorded, not failed:
    torch's own CUDA backward uses atomics)."""
    seen, again = trial.observed, trial.observed.again
    if trial.case.direction == "backward" and seen.outputs is not None and again is not None:
        same = not isinstance(again, Raised)
        trial.extra["deterministic"] = same and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(seen.outputs, again))
    return None


#: The checks, in order (see the module docstring); the first to object decides.
CHECKS: tuple[Check, ...] = (no_torch, exceptions, outputs, values, residual_path, hygiene, alias, determinism)


def _values_shown(trial: Trial) -> dict[str, Any] | None:
    """The small windows a failure card shows (stored with the result)."""
    outputs_by_side = {"torch": trial.want.torch_out, "reference": trial.want.exact, "backend": trial.observed.outputs}
    present = {side: out for side, out in outputs_by_side.items() if out is not None}
    if not present or trial.case.names_problem or trial.want.torch_exc is not None:
        return None  # an invalid call, or torch raised: there are no values to set side by side
    cmp = trial.comparison.to_json() if trial.comparison is not None else None
    try:
        return failure_values(trial.case.dtype, present, cmp, trial.backend)
    except Exception as exc:  # a failure card without values beats a lost result
        return {"notes": [f"values could not be recorded: {describe(exc)}"]}


def check_case(
    case: Case, backend: Backend, oracle: Oracle, phase: Phase = no_phase, torch_failure: str | None = None
) -> Result:
    """Run ``case`` on ``backend`` and judge it against torch and the reference,
    all in this process (``--no-isolation``, tests): the oracles first, then
    the backend (``observe_case``), then the verdict (``judge``).

    ``phase`` is told which step is running (``materialize``, ``torch``,
    ``reference``, ``backend``, ``compare``).  ``torch_failure``: torch is
    known to crash or hang here; the reference alone decides."""
    op = f"{case.op}:backward" if case.direction == "backward" else case.op
    reason = backend.unsupported_reason(op, case.dtype, case.params)
    if reason:  # declined: no oracle asked, and the backend not asked again
        return judge(case, backend.name, Observed(unsupported=reason), None)
    phase("materialize")
    want = oracle.expected(case, case.materialize(), phase, torch_failure)
    observed = observe_case(case, backend, phase)
    phase("compare")  # the harness's own arithmetic again (``conformance.fpenv``)
    return judge(case, backend.name, observed, want)


def judge(case: Case, backend: str, observed: Observed, want: Expected | None) -> Result:
    """The verdict on what ``backend`` did with ``case`` (``observed``, made in
    its own process) against what the oracles say (``want``; ``None`` where
    it declined the case): the checks of ``CHECKS`` in order."""
    if observed.unsupported is not None or want is None:
        return Result(backend, case, "unsupported", observed.unsupported or "declined")
    trial = Trial(case, backend, want, observed)
    if observed.transfer_s is not None:
        trial.extra["transfer_s"] = observed.transfer_s
    if observed.first_call_s is not None:
        trial.extra["first_call_s"] = observed.first_call_s
    result = next((r for check in CHECKS if (r := check(trial)) is not None), None) or trial.result("pass")
    if result.failed:
        result.extra["values"] = None if trial.raised is not None else _values_shown(trial)
        if observed.mutated and "modified its input" not in result.message:
            # the likelier cause of whatever an earlier check saw
            result.message += f" (it also modified its input {', '.join(observed.mutated)})"
        if observed.flushes:
            result.message = f"{result.message}; {FLUSHES}" if result.message else FLUSHES
    if observed.call is not None:
        # the library call this case maps to, for the report's library matrix
        result.extra["call"] = observed.call
    if want.torch_crash is not None:
        if result.comparison is not None:
            result.comparison.torch_off_reference = True
        note = f"torch itself fails here ({describe(want.torch_crash)}): judged against the reference alone"
        result.message = f"{result.message}; {note}" if result.message else note
    return result
