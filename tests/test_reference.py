"""The reference against torch 2.13 itself: values in float64 and the
exception class of invalid calls."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference
from conformance.strategies import interpolate_cases
from reference.interpolate import MODE_RANKS, axis_taps, plan_interpolate


def _torch_aa_width_one_bug(case) -> bool:
    """torch's antialias pass with output width 1 reads row 0 (reference docstring)."""
    p = case.params
    if not p.get("antialias"):
        return False
    plan = plan_interpolate(case.input.shape, **p)
    return plan.output_size[-1] == 1 and plan.output_size[0] != plan.input_size[0]


@pytest.mark.parametrize("mode", list(MODE_RANKS))
@settings(max_examples=60)
@given(data=st.data())
def test_reference_matches_torch_float64(mode, data):
    case = data.draw(interpolate_cases(mode, lambda m, aa: ["float64"]))
    assume(not _torch_aa_width_one_bug(case))
    x = case.materialize()["x"]
    expected = F.interpolate(torch.from_numpy(x.copy()), **case.params).numpy()
    got = reference.interpolate(x, **case.params)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * max(1, np.abs(x).max(initial=0)))


def test_torch_aa_width_one_deviation_is_real():
    """If a torch release fixes this, the reference's note and the exclusion go."""
    x = np.random.default_rng(0).standard_normal((1, 1, 5, 3))
    t = F.interpolate(torch.from_numpy(x), size=(9, 1), mode="bilinear", antialias=True).numpy()
    np.testing.assert_array_equal(t[0, 0, :, 0], np.full(9, t[0, 0, 0, 0]))
    r = reference.interpolate(x, size=(9, 1), mode="bilinear", antialias=True)
    assert np.ptp(r) > 0.1


def test_rows_of_every_interpolating_mode_sum_to_one():
    for mode, ndim in [("linear", 3), ("bicubic", 4), ("area", 4), ("lanczos", 4), ("bilinear", 4)]:
        for n_in, n_out in [(5, 13), (13, 5), (7, 1), (1, 4)]:
            aa = mode == "lanczos"
            plan = plan_interpolate((1, 1) + (n_in,) * (ndim - 2), size=n_out, mode=mode, antialias=aa)
            taps = axis_taps(plan, 0, ndim)
            if taps is not None:
                np.testing.assert_allclose(taps.weight.sum(1), 1.0, rtol=1e-12)


X4 = np.zeros((1, 1, 4, 4))
INVALID_CALLS = [
    (X4, dict(size=2, scale_factor=2.0)),
    (X4, dict()),
    (X4, dict(size=(2, 2, 2))),
    (X4, dict(scale_factor=(2.0, 2.0, 2.0))),
    (X4, dict(size=(2.0, 2))),
    (X4, dict(size=0)),
    (X4, dict(size=-3)),
    (X4, dict(scale_factor=0.1)),
    (X4, dict(scale_factor=-1.0)),
    (X4, dict(scale_factor=float("nan"))),
    (X4, dict(scale_factor=float("inf"))),
    (X4, dict(size=2, recompute_scale_factor=True)),
    (X4, dict(scale_factor=2.0, mode="nearest", align_corners=True)),
    (X4, dict(scale_factor=2.0, mode="area", align_corners=False)),
    (X4, dict(scale_factor=2.0, mode="bogus")),
    (X4, dict(scale_factor=2.0, mode="linear")),
    (X4, dict(scale_factor=2.0, mode="trilinear")),
    (np.zeros((1, 1, 4)), dict(scale_factor=2.0, mode="bilinear")),
    (np.zeros((1, 1, 4, 4, 4)), dict(scale_factor=2.0, mode="bicubic")),
    (np.zeros((1, 1, 4, 4, 4)), dict(scale_factor=2.0, mode="bilinear", antialias=True)),
    (X4, dict(scale_factor=2.0, mode="area", antialias=True)),
    (X4, dict(scale_factor=2.0, mode="lanczos")),
    (X4, dict(scale_factor=2.0, mode="lanczos", antialias=True, align_corners=True)),
    (np.zeros((1, 0, 4, 4)), dict(scale_factor=2.0, mode="bilinear")),
    (np.zeros((1, 1, 0, 4)), dict(scale_factor=2.0, mode="bilinear")),
    (np.zeros((4, 4)), dict(scale_factor=2.0)),
]


@pytest.mark.parametrize("x,kwargs", INVALID_CALLS, ids=[str(k) for _, k in INVALID_CALLS])
def test_invalid_calls_raise_torchs_exception_class(x, kwargs):
    with pytest.raises(Exception) as torch_exc:
        F.interpolate(torch.from_numpy(x), **kwargs)
    with pytest.raises(torch_exc.type) as ref_exc:
        reference.interpolate(x, **kwargs)
    assert str(ref_exc.value), "the message must say what to change"
