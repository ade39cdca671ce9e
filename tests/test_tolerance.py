"""The tolerance policy: what passes, what fails, and the metrics it reports."""

import numpy as np
import pytest

from conformance.tolerance import EPS, SLACK_ULPS, compare_exact, compare_numeric


def test_exact_requires_bit_equality_and_counts_mismatches():
    ref = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert compare_exact(ref.copy(), ref, ref).passed
    bad = ref.copy()
    bad[1] = np.nextafter(np.float32(2.0), np.float32(3.0))
    c = compare_exact(bad, ref, ref)
    assert not c.passed and c.mismatches == 1 and c.worst_index == [1]


def test_exact_nan_equals_nan():
    ref = np.array([np.nan, 1.0])
    assert compare_exact(ref.copy(), ref, ref).passed


def test_exact_flags_torch_off_reference():
    ref = np.array([1.0, 2.0])
    c = compare_exact(ref.copy(), ref, np.array([1.0, 5.0]))
    assert c.passed and c.torch_off_reference and c.max_abs_vs_torch == 3.0


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_numeric_allows_torchs_error_plus_slack(dtype):
    exact = np.linspace(-3, 3, 11)
    torch_out = (exact + 10 * EPS[dtype] * 3).astype(dtype)  # torch is 10 ulps off
    slack = SLACK_ULPS[dtype] * EPS[dtype] * 3
    torch_err = float(np.abs(torch_out.astype(np.float64) - exact).max())
    within = (exact + torch_err + 0.5 * slack).astype(np.float64)
    c = compare_numeric(within, exact, torch_out, dtype)
    assert c.passed, c.reason
    beyond = exact.copy()
    beyond[4] += torch_err + 3 * slack
    c = compare_numeric(beyond, exact, torch_out, dtype)
    assert not c.passed and c.mismatches == 1 and c.worst_index == [4]
    assert c.bound == pytest.approx(torch_err + slack)


def test_numeric_rejects_non_finite():
    exact = np.ones(4)
    got = np.ones(4, dtype=np.float32)
    got[2] = np.nan
    c = compare_numeric(got, exact, np.ones(4, dtype=np.float32), "float32")
    assert not c.passed and "non-finite" in c.reason


def test_numeric_metrics():
    exact = np.array([1.0, 100.0])
    got = np.array([1.0, 100.5])
    c = compare_numeric(got, exact, exact.copy(), "float64")
    assert c.max_abs == 0.5 and c.max_rel == pytest.approx(0.005)
    assert c.max_ulp == pytest.approx(0.5 / np.spacing(100.0))


def test_uint8_rounding_boundary_rule():
    exact = np.array([10.2, 10.5, 10.5004, 10.7, 300.0, -4.0])
    rounded = np.array([10, 11, 11, 11, 255, 0], dtype=np.uint8)
    assert compare_numeric(rounded, exact, rounded, "uint8").passed
    # 1 off on a rounding boundary: allowed
    on_boundary = rounded.copy()
    on_boundary[1] = 10
    assert compare_numeric(on_boundary, exact, rounded, "uint8").passed
    # 1 off away from a boundary: not allowed
    off = rounded.copy()
    off[0] = 11
    c = compare_numeric(off, exact, rounded, "uint8")
    assert not c.passed and c.mismatches == 1
    # 2 off: never, even when torch itself is 2 off
    torch_far = rounded.copy()
    torch_far[3] = 13
    far = rounded.copy()
    far[3] = 13
    assert not compare_numeric(far, exact, torch_far, "uint8").passed


def test_uint8_boundary_widens_to_torchs_deviation():
    exact = np.array([10.3, 20.0])
    torch_out = np.array([11, 20], dtype=np.uint8)  # torch 0.7 off at 10.3
    got = np.array([11, 20], dtype=np.uint8)
    assert compare_numeric(got, exact, torch_out, "uint8").passed
    assert not compare_numeric(got, exact, np.array([10, 20], dtype=np.uint8), "uint8").passed


# --------------------------------------------------------------------------
# Non-finite values: equal ones are no error, any other disagreement is one mismatch
# --------------------------------------------------------------------------

NAN, INF = np.nan, np.inf


def _numeric(actual, exact, torch_out=None, dtype="float32"):
    exact = np.array(exact, dtype=np.float64)
    torch_out = exact.astype(dtype) if torch_out is None else np.array(torch_out, dtype=dtype)
    return compare_numeric(np.array(actual, dtype=dtype), exact, torch_out, dtype)


def test_numeric_nan_where_the_reference_has_nan_is_no_mismatch():
    c = _numeric([NAN, 1.0, 2.0], [NAN, 1.0, 2.0])
    assert c.passed and c.mismatches == 0, c.reason
    assert c.max_abs == 0.0 and c.torch_max_abs == 0.0 and not c.torch_off_reference


def test_numeric_equal_infinities_are_no_mismatch():
    c = _numeric([INF, -INF, 2.0], [INF, -INF, 2.0])
    assert c.passed and c.mismatches == 0, c.reason
    c = _numeric([-INF, -INF, 2.0], [INF, -INF, 2.0])  # the opposite infinity is wrong
    assert not c.passed and c.mismatches == 1 and c.worst_index == [0]


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_numeric_non_finite_where_the_reference_is_finite_counts_once(bad):
    c = _numeric([bad, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert not c.passed and c.mismatches == 1 and c.worst_index == [0]
    assert "non-finite" in c.reason
    c = _numeric([bad, bad, 3.0], [1.0, 2.0, 3.0])
    assert c.mismatches == 2


@pytest.mark.parametrize("exact", [NAN, INF])
def test_numeric_finite_where_the_reference_is_not_counts_once(exact):
    c = _numeric([1.0, 2.0], [exact, 2.0])
    assert not c.passed and c.mismatches == 1 and c.worst_index == [0]


def test_numeric_a_nan_in_the_reference_leaves_the_bound_finite():
    # torch's error is taken over the elements it agrees on, so a NaN in the
    # reference (and torch) cannot turn the bound into NaN and let a finite
    # error through
    c = _numeric([NAN, 1.0, 5.0], [NAN, 1.0, 2.0])
    assert np.isfinite(c.bound) and not c.passed and c.mismatches == 1 and c.worst_index == [2]


def test_numeric_torchs_own_non_finite_disagreement_flags_but_sets_no_bound():
    # torch returns NaN where the reference is 1: flagged, its error reported as
    # infinite, but the bound stays finite: the backend's NaN there still fails
    c = _numeric([1.0, 2.5], [1.0, 2.0], torch_out=[NAN, 2.0])
    assert c.torch_off_reference and c.torch_max_abs == INF and np.isfinite(c.bound)
    assert not c.passed and c.mismatches == 1 and c.worst_index == [1]
    c = _numeric([NAN, 2.0], [1.0, 2.0], torch_out=[NAN, 2.0])
    assert not c.passed and c.mismatches == 1


def test_numeric_an_infinite_reference_sets_no_infinite_bound():
    c = _numeric([INF, 2.5], [INF, 2.0])
    assert np.isfinite(c.bound) and not c.passed and c.mismatches == 1


def test_numeric_non_finite_metrics_carry_no_nan():
    c = _numeric([INF, NAN, 1.0], [-INF, 2.0, NAN])
    assert c.mismatches == 3
    for value in (c.max_abs, c.max_rel, c.max_ulp, c.max_abs_vs_torch):
        assert not np.isnan(value)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("scale", [1e-3, "subnormal"])
def test_numeric_bound_scales_with_small_data(dtype, scale):
    """The bound is relative to the data's magnitude, with no floor at 1: a
    result flushed to zero, or one a percent off, fails on data of 1e-3 and
    on subnormal data as it does on data near 1; the correctly rounded one
    passes."""
    unit = float(np.finfo(dtype).smallest_subnormal) * 2.0 ** (np.finfo(dtype).nmant - 1) if scale == "subnormal" else scale
    exact = np.linspace(-3, 3, 13) * unit
    rounded = exact.astype(dtype)
    assert compare_numeric(rounded, exact, rounded, dtype).passed
    for wrong in (np.zeros_like(rounded), (exact * 1.01).astype(dtype)):
        c = compare_numeric(wrong, exact, rounded, dtype)
        assert not c.passed and c.bound < 0.01 * 3 * unit, (c.reason, c.bound)


def test_numeric_magnitude_is_at_least_the_scale_of_the_terms():
    """A small result from large terms (weights that cancel) keeps their
    rounding error: the given magnitude widens the bound beyond max|exact|."""
    exact = np.array([1e-6, -1e-6])
    got = exact + 1e-6 * EPS["float32"] * 1e3
    assert not compare_numeric(got.astype(np.float32), exact, exact.astype(np.float32), "float32").passed
    assert compare_numeric(got.astype(np.float32), exact, exact.astype(np.float32), "float32", magnitude=1.0).passed


def test_numeric_float16_truncation_fails_and_correct_rounding_passes():
    """float16 takes an eighth of a step of slack: a result truncated toward
    zero (off by up to a whole step) fails where torch rounds; the correctly
    rounded result passes even where torch is exact or overflows on every
    element that rounds, which leaves the bound the slack alone."""
    exact = np.linspace(0.1, 3.0, 97)
    rounded = exact.astype(np.float16)
    truncated = np.where(np.abs(rounded.astype(np.float64)) > exact, np.nextafter(rounded, np.float16(0)), rounded)
    assert compare_numeric(rounded, exact, rounded, "float16").passed
    assert not compare_numeric(truncated, exact, rounded, "float16").passed
    huge = np.array([65000.3, 60001.7, 4.0])  # torch: inf, inf, and exact where no rounding happens
    torch_out = np.array([np.inf, np.inf, 4.0], dtype=np.float16)
    c = compare_numeric(huge.astype(np.float16), huge, torch_out, "float16")
    assert c.passed and c.torch_off_reference, c.reason
    assert not compare_numeric(np.array([65024.0, 60000.0, 4.0], dtype=np.float16), huge, torch_out, "float16").passed
