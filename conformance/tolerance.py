"""The tolerance policy, in one place.

Rule (PyTorch's own for its decompositions): compute the exact float64
reference; a backend conforms on a case when its error against the reference
is no worse than torch's own error on the same input and dtype, plus a small
per-dtype slack.

* **Data movement** (``nearest``, ``nearest-exact``, max-pooling values and
  indices, max-unpooling, pixel (un)shuffle): bit-exact, NaN equal to NaN (of
  either sign), an infinity equal only to itself, and the sign of a zero part
  of the value: ``-0.0`` where the reference has ``0.0`` (or the opposite) is
  a mismatch.
* **Floating point**: per element ``|out - ref| <= max|torch - ref| +
  SLACK_ULPS[dtype] * eps(dtype) * magnitude``, or half the dtype's spacing
  at the element (the correctly rounded result conforms), the magnitude being ``max|ref|`` or, if larger,
  the scale of the terms summed: for interpolate the largest ``|x|``, for
  conv_transpose the largest sum of absolute products ``max(|x| (*) |w| +
  |b|)``, for gradients the adjoint applied to magnitudes; at least the
  dtype's smallest normal value (no floor at 1: small and subnormal data are
  held to the same relative precision as data near 1).
  The slack is a few units of the dtype's machine epsilon at the data's
  magnitude (an eighth of one for the two-byte floats): room for a different but equally good order of operations (our
  separable passes versus torch's fused ones, another summation order).
* **uint8**: against the reference clamped to 0..255.  A correctly rounded
  result is within 0.5; a difference of 1 from the rounded value is allowed only
  on a rounding boundary, i.e. where the exact value lies within
  ``UINT8_BOUNDARY`` of ``k + 0.5``, widened to torch's own deviation where
  torch's fixed-point kernels stray further.  Nothing beyond 1 ever passes.
* **Non-finite values**: NaN against NaN and an infinity against the same
  infinity are equal (no error).  Any other disagreement on a non-finite
  value -- NaN or an infinity where the reference is finite, a finite value
  where it is NaN or infinite, or the opposite infinity -- is an infinite
  error: one mismatch, whatever torch does there.  Torch's own error, which
  sets the bound, is taken where torch agrees with the reference on which
  values are finite; where it does not, the case is flagged.
* **Overflow**: an infinity where the exact value is finite but overflows
  the dtype (``|exact|`` at or beyond the dtype's overflow threshold, its
  largest value plus half a unit in the last place: 65520 for float16) is the
  correctly rounded result, no error; within the bound of that threshold it
  is off by the distance to it.  A finite result there is measured as usual,
  so clipping to the largest finite value fails.

Reported per case: max absolute error, max relative error, max ULP error
(the max absolute error in units of the dtype's spacing at ``M``, the case's
magnitude as in the bound; uint8: in units of 1), the mismatch
count (elements beyond the bound), the worst index, the bound itself, torch's
own max absolute error and the backend's max difference from torch.  Being on
the bound's scale, a passing case's ULP error is at most torch's own plus
about ``SLACK_ULPS``: a small element beside huge ones (cancellation, special
values) is not measured on its own tiny spacing.

Torch's own error is also checked against a generous bound
(``TORCH_OFF_REFERENCE_ULPS``): a case where torch itself strays that far is
flagged, since there "no worse than torch" is a weak promise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from reference.dtypes import BFLOAT16, is_complex, is_floating

EPS: dict[str, float] = {
    "float16": float(np.finfo(np.float16).eps),
    # 2**-7: eight significant bits (ml_dtypes registers bfloat16 with np.finfo)
    "bfloat16": float(np.finfo(BFLOAT16).eps),
    "float32": float(np.finfo(np.float32).eps),
    "float64": float(np.finfo(np.float64).eps),
}
#: Extra error allowed beyond torch's, in units of eps at the data's magnitude.
#: float16 and bfloat16: torch mostly computes in float32 and rounds once, as
#: the numpy backend does.  Where both do, a backend's error at an element is
#: torch's there plus float32's order-of-operations error (2**13 or 2**16
#: times smaller than the dtype's): a rounding that goes the other way does
#: so where both are half a step off.  Both take 1/8: one eighth of a step is
#: far more than float32's part, yet a backend that truncates (errors up to a
#: whole step) or sums in the two-byte dtype (errors of several) fails, which
#: a slack of 1 lets pass (measured: tests/test_mutation.py for bfloat16; a
#: float16 truncating backend passed every case with 1).  A correctly rounded
#: element always conforms (``_rounding_room``): where torch is non-finite or
#: exact on every element that rounds, the bound is the slack alone.
SLACK_ULPS: dict[str, float] = {"float16": 1 / 8, "bfloat16": 1 / 8, "float32": 4.0, "float64": 4.0}
#: A complex dtype's parts are of this real dtype: its eps and ULPs apply.
COMPONENT: dict[str, str] = {"complex64": "float32", "complex128": "float64"}
#: Half-width of the band around ``k + 0.5`` where uint8 may round either way.
UINT8_BOUNDARY = 1e-3
#: Torch's error beyond this many eps (uint8: beyond 1) flags the case.
TORCH_OFF_REFERENCE_ULPS = 64.0


@dataclass
class Comparison:
    """How far ``actual`` is from the exact reference, and whether that conforms."""

    passed: bool
    reason: str
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulp: float = 0.0
    mismatches: int = 0
    worst_index: list[int] | None = None
    bound: float = 0.0
    torch_max_abs: float = 0.0
    torch_off_reference: bool = False
    max_abs_vs_torch: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def smallest_normal(dtype: str) -> float:
    """The smallest positive normal value of a floating ``dtype`` (of its parts
    for a complex one): the floor of a case's magnitude.  Below it the spacing
    is that of the subnormals, and a magnitude of 0 (an all-zero result) still
    leaves the bound its last bit of room."""
    return float(np.finfo(COMPONENT.get(dtype, dtype)).tiny)


def ulp_at(dtype: str, magnitude: float) -> float:
    """The unit of the ULP figures: the spacing of ``dtype`` at the case's
    magnitude (as in the bound, at least the smallest normal value), the
    spacing below the largest finite value at or beyond it; 1 for integer
    dtypes (uint8: a step of 1, int64 indices); a complex dtype's, that of its
    parts."""
    dtype = COMPONENT.get(dtype, dtype)
    if dtype not in EPS:
        return 1.0
    largest = np.finfo(dtype).max
    at = np.asarray(min(max(smallest_normal(dtype), magnitude), float(largest)), dtype=np.float64).astype(dtype)
    if at >= largest:  # the spacing at the largest value is inf: take the one below it
        return float(largest) - float(np.nextafter(largest, np.zeros((), dtype)))
    return float(np.spacing(at))


def overflow_threshold(dtype: str) -> float:
    """The smallest magnitude that rounds to infinity in ``dtype``: its largest
    finite value plus half the spacing below it (inf for float64, whose
    reference is float64 itself; and for non-float dtypes)."""
    if dtype not in EPS:
        return np.inf
    largest = np.finfo(dtype).max
    below = float(largest) - float(np.nextafter(largest, np.zeros((), dtype)))
    with np.errstate(over="ignore"):
        return float(np.float64(largest) + below / 2)


def _with_overflow(err: np.ndarray, actual: np.ndarray, expected: np.ndarray, dtype: str, margin: float) -> np.ndarray:
    """``err`` where ``actual`` is an infinity and ``expected`` a finite value of
    its sign within ``margin`` of overflowing ``dtype`` (or beyond): the
    distance from ``expected`` to the overflow threshold (0 once beyond it)."""
    limit = overflow_threshold(dtype)
    if not np.isfinite(limit):
        return err
    with np.errstate(invalid="ignore"):
        gap = np.maximum(limit - np.abs(expected), 0.0)
        overflow = np.isinf(actual) & np.isfinite(expected) & (np.sign(actual) == np.sign(expected)) & (gap <= margin)
    return np.where(overflow, gap, err)


def _errors(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``|actual - expected|`` with equal values (infinities, NaN and NaN) at 0
    and a NaN against a number at inf."""
    with np.errstate(invalid="ignore", over="ignore"):  # a difference beyond float64's range is an infinite error
        err = np.abs(actual - expected)
    same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def _metrics(
    actual: np.ndarray, expected: np.ndarray, dtype: str, err: np.ndarray | None = None, magnitude: float | None = None
) -> dict[str, Any]:
    """Max absolute, relative and ULP error and the worst index.  ULPs are
    counted at the case's magnitude (``magnitude``, by default the largest
    finite ``|expected|``; see ``ulp_at``), the scale of the bound: a small
    element beside large ones is not measured on its own tiny spacing."""
    err = _errors(actual, expected) if err is None else err
    if err.size == 0:
        return {"max_abs": 0.0, "max_rel": 0.0, "max_ulp": 0.0, "worst_index": None, "err": err}
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    if magnitude is None:
        magnitude = float(np.abs(expected[np.isfinite(expected)]).max(initial=0.0))
    max_abs = float(err.max())
    # overflow to inf is the intended result: an error (or its ratio) beyond float64's range
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rel = err / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
        max_ulp = float(np.float64(max_abs) / np.float64(ulp_at(dtype, magnitude)))
    rel = np.where(err == 0, 0.0, np.where(np.isnan(rel), np.inf, rel))
    return {
        "max_abs": max_abs,
        "max_rel": float(rel.max()),
        "max_ulp": max_ulp,
        "worst_index": [int(i) for i in worst],
        "err": err,
    }


def same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise "the same value" for data movement: equal with the same sign
    (so ``-0.0`` differs from ``0.0``), or both NaN (whatever their sign bits).
    Complex values compare part by part (each part so); integers and bools in
    their own dtype (int64 beyond 2**53 has no float64 twin)."""
    if is_complex(a.dtype) or is_complex(b.dtype):
        a, b = a.astype(np.complex128), b.astype(np.complex128)
        return same_values(a.real, b.real) & same_values(a.imag, b.imag)
    if not (is_floating(a.dtype) or is_floating(b.dtype)):
        return np.asarray(a == b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        return ((a64 == b64) & (np.signbit(a64) == np.signbit(b64))) | (np.isnan(a64) & np.isnan(b64))


def exact_errors(actual: np.ndarray, expected: np.ndarray, same: np.ndarray) -> np.ndarray:
    """``|actual - expected|`` (float64) where ``same`` is False, 0 where it is
    True: complex as the magnitude of the difference, integers exactly (Python
    integers: no wrap-around at int64's ends, then at least 1 where they
    differ), NaN against a number infinite."""
    if not (is_floating(actual.dtype) or is_complex(actual.dtype)):
        diff = np.abs(actual.astype(object) - expected.astype(object)).astype(np.float64)
        return np.where(same, 0.0, np.maximum(diff, 1.0))
    kind = np.complex128 if is_complex(actual.dtype) or is_complex(expected.dtype) else np.float64
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(actual.astype(kind) - expected.astype(kind))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def _magnitudes(a: np.ndarray) -> np.ndarray:
    """``|a|`` as float64, for the relative error (complex: the modulus)."""
    return np.abs(a.astype(np.complex128)) if is_complex(a.dtype) else np.abs(a.astype(np.float64))


def compare_exact(actual: np.ndarray, expected: np.ndarray, torch_out: np.ndarray) -> Comparison:
    """Data movement: equal to the reference, bit for bit (NaN equals NaN; the
    sign of a zero counts, so does that of an infinity; complex values part by
    part; integers in their own dtype)."""
    dtype = str(expected.dtype)
    same = same_values(actual, expected)
    err = exact_errors(actual, expected, same)
    m = _metrics(err, _magnitudes(expected), dtype, err)
    mismatches = int(same.size - same.sum())
    if mismatches and m["max_abs"] == 0.0:  # only signs of zeros differ: point at the first
        m["worst_index"] = [int(i) for i in np.unravel_index(int(np.argmin(same)), same.shape)]
    comparable = torch_out.shape == expected.shape
    torch_same = comparable and bool(same_values(torch_out, expected).all())
    torch_err = exact_errors(torch_out, expected, same_values(torch_out, expected)) if comparable else np.zeros(0)
    signs = int((~same & (err == 0.0)).sum())
    reason = f"{mismatches} element(s) differ from the exact result"
    if signs:
        reason += f" ({signs} of them a zero of the other sign)"
    vs_torch = (
        exact_errors(actual, torch_out, same_values(actual, torch_out))
        if actual.shape == torch_out.shape
        else np.zeros(0)
    )
    return Comparison(
        passed=mismatches == 0,
        reason="" if mismatches == 0 else reason,
        max_abs=m["max_abs"],
        max_rel=m["max_rel"],
        max_ulp=m["max_ulp"],
        mismatches=mismatches,
        worst_index=m["worst_index"],
        bound=0.0,
        torch_max_abs=float(torch_err.max(initial=0.0)),
        torch_off_reference=not torch_same,
        max_abs_vs_torch=float(vs_torch.max(initial=0.0)),
    )


def compare_numeric(
    actual: np.ndarray, exact: np.ndarray, torch_out: np.ndarray, dtype: str, magnitude: float | None = None
) -> Comparison:
    """Interpolating ops: ``actual`` (in ``dtype``) against the exact float64
    result, allowed as much error as torch has plus the per-dtype slack.

    ``magnitude`` is the scale of the rounding errors: by default the largest
    ``|exact|``; for sums of many products (conv_transpose) the largest sum of
    absolute terms, since cancellation leaves a small result with the error
    of its large terms."""
    # complex: the float policy on the modulus of the difference, with the
    # eps of the parts' dtype
    wide = np.complex128 if is_complex(dtype) else np.float64
    a64 = actual.astype(wide)
    t64 = torch_out.astype(wide)
    expected = np.clip(exact, 0.0, 255.0) if dtype == "uint8" else exact
    magnitude = _magnitude(exact, dtype, magnitude)
    dtype = COMPONENT.get(dtype, dtype)  # from here on the policy of the parts' dtype
    slack = 0.0 if dtype == "uint8" else SLACK_ULPS[dtype] * EPS[dtype] * magnitude
    torch_errors = _with_overflow(_errors(t64, expected), t64, expected, dtype, slack)
    bound, torch_err, torch_off = _bound(torch_errors, dtype, slack, magnitude)
    err = _with_overflow(_errors(a64, expected), a64, expected, dtype, bound)
    m = _metrics(a64, expected, dtype, err, magnitude)
    # a non-finite disagreement is an infinite error: counted once, below
    nonfinite = int((np.isinf(err) & ~np.isfinite(a64)).sum())
    beyond = err > bound  # of those, a correctly rounded element still conforms
    mismatches = int((err[beyond] > _rounding_room(expected[beyond], dtype)).sum()) if beyond.any() else 0
    if dtype == "uint8" and err.size:
        mismatches += int(((err > 0.5 + UINT8_BOUNDARY) & (err <= bound) & ~_on_boundary(expected, torch_err)).sum())
    passed = mismatches == 0
    reason = ""
    if not passed:
        reason = (
            f"{mismatches} element(s) off by more than {bound:.3g} "
            f"(torch's own max absolute error {torch_err:.3g}); worst {m['max_abs']:.3g} at {m['worst_index']}"
        )
        if nonfinite:
            reason += f"; {nonfinite} non-finite value(s) where the reference differs"
    return Comparison(
        passed=passed,
        reason=reason,
        max_abs=m["max_abs"],
        max_rel=m["max_rel"],
        max_ulp=m["max_ulp"],
        mismatches=mismatches,
        worst_index=m["worst_index"],
        bound=bound,
        torch_max_abs=float(torch_errors.max(initial=0.0)),
        torch_off_reference=torch_off,
        max_abs_vs_torch=float(_errors(a64, t64).max(initial=0.0)),
    )


def _rounding_room(expected: np.ndarray, dtype: str) -> np.ndarray | float:
    """Per element, the error of the correctly rounded result: half the
    spacing of ``dtype`` at the exact value rounded to it (0 where that is not
    finite; 0 for complex values and uint8, whose rules stand apart).  The
    reference rounded to the dtype always conforms, even where torch is exact
    or non-finite on every element that rounds and so leaves the bound only
    its slack (float16 data near its largest value)."""
    if dtype not in EPS or np.iscomplexobj(expected):
        return 0.0
    info = np.finfo(dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rounded = np.abs(expected.astype(dtype).astype(np.float64))
        spacing = np.exp2(np.floor(np.log2(np.maximum(rounded, float(info.tiny)))) - info.nmant)
    return np.where(np.isfinite(rounded), spacing / 2, 0.0)


def _bound(torch_errors: np.ndarray, dtype: str, slack: float, magnitude: float) -> tuple[float, float, bool]:
    """``(bound, torch's error, torch off the reference)``.  torch's error is
    taken where it agrees with the reference on which values are finite
    (equal non-finite values are no error, nor an overflow to inf where the
    exact value overflows); a non-finite disagreement of torch's flags the
    case but sets no bound."""
    torch_agrees = np.isfinite(torch_errors)
    torch_err = float(torch_errors[torch_agrees].max(initial=0.0))
    torch_nonfinite = not torch_agrees.all()
    if dtype == "uint8":
        bound = min(max(0.5 + UINT8_BOUNDARY, torch_err + UINT8_BOUNDARY), 1.0 + UINT8_BOUNDARY)
        return bound, torch_err, torch_err > 1.0 or torch_nonfinite
    # kept finite (torch_err + slack overflows where torch is as far off as
    # float64 reaches): an infinite error, a non-finite disagreement, must exceed it
    bound = min(torch_err + slack, float(np.finfo(np.float64).max))
    return bound, torch_err, torch_err > TORCH_OFF_REFERENCE_ULPS * EPS[dtype] * magnitude or torch_nonfinite


def _magnitude(exact: np.ndarray, dtype: str, magnitude: float | None) -> float:
    """The scale of the rounding errors: the larger of ``magnitude`` (when
    finite: the scale of the terms, see ``conformance.execute.magnitudes``) and
    the largest finite ``|exact|``; at least the dtype's smallest normal value,
    at most its largest value (the rounding of a result the dtype can hold).
    No floor at 1: the bound scales with the data, so a case of small or
    subnormal values is held to the same relative precision as one of values
    near 1 (a result flushed to zero, or wrong by 1e-9 on data of 1e-8, fails)."""
    if dtype == "uint8":
        return 1.0
    largest = float(np.abs(exact[np.isfinite(exact)]).max(initial=0.0))
    if magnitude is not None and np.isfinite(magnitude):
        largest = max(largest, magnitude)
    return min(max(smallest_normal(dtype), largest), float(np.finfo(dtype).max))


def _on_boundary(expected: np.ndarray, torch_err: float) -> np.ndarray:
    """Where a uint8 result may be 1 off: the exact value is within the
    boundary band of ``k + 0.5`` (the band widened to torch's own deviation)."""
    band = max(UINT8_BOUNDARY, torch_err - 0.5 + UINT8_BOUNDARY)
    return np.abs(expected - np.floor(expected) - 0.5) <= band
