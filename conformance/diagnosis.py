"""Diagnosis: which known semantics a failing backend actually follows.

For a failing cell, every semantic variant of the op (``reference.variants``)
is taken in turn as the contract: a failing case is *explained* by a variant
when the backend conforms to that variant on it (the same tolerance policy,
the variant's outputs standing where torch's do), and a passing case *agrees*
with a variant when the variant passes it too.  A variant that explains every
failing case and agrees on every passing one is named; several such variants
coincide on every case checked and are named together; when no single one
does, a pair whose explanations cover every failing case is tried; otherwise
the verdict is "no known variant", never a guess.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backends.reference_backend import to_dtype
from backends.variant_backend import VariantBackend
from conformance.cases import Case
from conformance.execute import Expected, Oracle, Phase, magnitudes, no_phase, reference_outputs
from conformance.repro import gradient_inputs
from conformance.results import Result
from conformance.verdict import check_case
from reference.variants import Variant, variants_for

#: Failing and passing cases a diagnosis looks at, at most.
MAX_FAILING = 8
MAX_PASSING = 8


class VariantOracle(Oracle):
    """An oracle whose contract is a variant: its outputs stand where torch's
    do (rounded to the case's dtype), its float64 results where the
    reference's do."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.variant = VariantBackend(name)

    def _exact(self, case: Case, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        inputs = {k: v.copy() for k, v in arrays.items()}
        x = inputs.pop("x")
        if case.direction == "backward":
            g = inputs.pop("grad_output")
            grads = self.variant.exact_vjp(case.op, g, x, **inputs, **case.params)
            return tuple(grads[n] for n in gradient_inputs(case))
        if case.op != self.variant.variant.op:
            return reference_outputs(case, arrays)
        out = self.variant.variant.forward(x, **inputs, **case.params)
        outs = tuple(np.asarray(o) for o in (out if isinstance(out, tuple) else (out,)))
        # where the reference's result is exact in another dtype (int64 for the
        # signed integers, the input's own for moves of data), the variant's
        # stands in that dtype too: the verdict compares those exactly
        ref = reference_outputs(case, arrays)
        return tuple(
            o if r.dtype in (np.float64, np.complex128) or o.dtype == r.dtype else to_dtype(o, r.dtype)
            for o, r in zip(outs, ref)
        )

    def expected(
        self, case: Case, arrays: dict[str, np.ndarray], phase: Phase = no_phase, torch_failure: str | None = None
    ) -> Expected:
        phase("reference")
        try:
            exact = self._exact(case, arrays)
        except Exception as exc:  # the variant refuses the call: that is its contract here
            return Expected(None, exc, None, None, exc)
        dtype = arrays["x"].dtype
        rounded = tuple(to_dtype(e, dtype) if e.dtype in (np.float64, np.complex128) else e for e in exact)
        return Expected(rounded, None, None, exact, None, None, magnitudes(case, arrays, len(exact)))


#: ``check_with(case, variant_name)``: the backend judged against the variant.
VariantChecker = Callable[[Case, str], Result]


@dataclass
class Diagnosis:
    """What a failing cell's backend follows, as far as the variants tell."""

    verdict: str  # "variant", "pair" or "none"
    variants: list[str] = field(default_factory=list)
    failing: int = 0
    passing: int = 0
    #: The best single variant's share when none explains everything.
    partial: tuple[str, int] | None = None
    #: The variants left unchecked when the cell's failure budget ran out (0: none).
    unchecked: int = 0

    def describe(self) -> str:
        text = self._verdict()
        if self.unchecked:
            text += f" (the failure budget ran out with {self.unchecked} variant(s) unchecked)"
        return text

    def _verdict(self) -> str:
        if self.verdict == "variant":
            names = " = ".join(self.variants)
            tie = " (they coincide on every case checked)" if len(self.variants) > 1 else ""
            return (
                f"matches {names}{tie} on all {self.failing} failing case(s) and agrees with torch "
                f"on the {self.passing} passing one(s) checked"
            )
        if self.verdict == "pair":
            return (
                f"matches {' + '.join(self.variants)} together on all {self.failing} failing case(s) "
                f"and agrees with torch on the {self.passing} passing one(s) checked"
            )
        text = "no known variant explains it"
        if self.partial:
            text += f" (closest: {self.partial[0]}, on {self.partial[1]} of {self.failing} failing case(s))"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "variants": self.variants,
            "failing": self.failing,
            "passing": self.passing,
            "partial": list(self.partial) if self.partial else None,
            "unchecked": self.unchecked,
            "summary": self.describe(),
        }


def _agrees(variant: Variant, case: Case, oracle: Oracle) -> bool:
    return check_case(case, VariantBackend(variant.name), oracle).status in ("pass", "unsupported")


def candidates_for(op: str, direction: str, failing: Sequence[Case]) -> list[Variant]:
    """The variants that may explain ``failing``, in the order a diagnosis
    checks them: a variant that perturbs only other dtypes than the failing
    cases' is the reference on them (it explains none) and is left out; those
    that perturb only the failing cases' dtypes come first, so that a
    failure budget running out leaves the general ones unchecked, not them."""
    dtypes = {case.dtype for case in failing}
    usable = [
        v
        for v in variants_for(op)
        if (direction == "forward" or v.backward) and (v.dtypes is None or dtypes & set(v.dtypes))
    ]
    return sorted(usable, key=lambda v: v.dtypes is None)  # stable: the catalog's order within each group


def diagnose(
    op: str,
    direction: str,
    failing: Sequence[Case],
    passing: Sequence[Case],
    check_with: VariantChecker,
    oracle: Oracle | None = None,
    deadline: float | None = None,
) -> Diagnosis:
    """Rank the op's variants on the cell's failing and passing cases (see
    the module docstring).  ``deadline`` (``time.monotonic``): no variant is
    checked after it; the verdict is then among those checked, and says so."""
    oracle = oracle or Oracle()
    failing, passing = list(failing)[:MAX_FAILING], list(passing)[:MAX_PASSING]
    candidates = candidates_for(op, direction, failing)
    explains: dict[str, set[int]] = {}
    for checked, v in enumerate(candidates):
        if deadline is not None and time.monotonic() > deadline:
            return dataclasses.replace(_rank(explains, failing, passing), unchecked=len(candidates) - checked)
        if all(_agrees(v, case, oracle) for case in passing):
            explains[v.name] = {i for i, case in enumerate(failing) if check_with(case, v.name).status == "pass"}
    return _rank(explains, failing, passing)


def _rank(explains: dict[str, set[int]], failing: list[Case], passing: list[Case]) -> Diagnosis:
    """The verdict from which failing cases each variant explains (among those agreeing on the passing ones)."""
    everything = set(range(len(failing)))
    full = [name for name, hits in explains.items() if hits == everything]
    if full and failing:
        return Diagnosis("variant", full, len(failing), len(passing))
    for a, b in itertools.combinations(sorted(explains), 2):
        if failing and explains[a] and explains[b] and explains[a] | explains[b] == everything:
            return Diagnosis("pair", [a, b], len(failing), len(passing))
    best = max(explains.items(), key=lambda kv: len(kv[1]), default=None)
    partial = (best[0], len(best[1])) if best and best[1] else None
    return Diagnosis("none", [], len(failing), len(passing), partial)
