"""Special values -- NaN, infinities, signed zeros, overflow, subnormals --
propagate as torch propagates them, in the reference and the numpy backend,
and the harness catches a backend that does not.

torch's contract, as the reference follows it:

* every op: a NaN or an infinity reaches exactly the outputs that read it;
  ``inf * 0`` and ``inf - inf`` are NaN;
* interpolate reads every tap of its kernel, zero weights included (linear's
  right neighbour at an integer source coordinate, bicubic's outer taps there,
  the edge input read twice), but not the padding of windows of different
  lengths (area, antialias); a linear-mode axis whose length does not change
  reads each input twice, with weights 1 and 0, so an infinity becomes NaN;
* data movement (nearest, pixel (un)shuffle, max_unpool, max_pool values)
  keeps ``-0.0`` and infinities bit for bit; max_pool takes the first of equal
  values (``0.0`` and ``-0.0`` tie), a NaN over any number, -inf only when a
  window holds nothing else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import backends
import reference
from backends.numpy_backend import NumpyBackend
from backends.reference_backend import to_dtype
from conformance import ops
from conformance.cases import SPECIAL_DISTRIBUTIONS, Case, InputSpec
from conformance.execute import Oracle, reference_outputs
from conformance.results import Result
from conformance.search import Cell, search_cell
from conformance.strategies import backward_case
from conformance.tolerance import compare_exact, compare_numeric, overflow_threshold
from conformance.verdict import check_case
from reference.dtypes import is_floating
from reference.interpolate import cubic_taps, linear_taps, plan_interpolate

ORACLE = Oracle()
FLOATS = ("float16", "float32", "float64")
#: Every (op, cell) of the ops themselves (the aliases are interpolate calls).
CELLS = [
    (op, cell)
    for op in ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")
    for cell in ops.get(op).cells
]
FAST = dict(database=None, deadline=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def special_cases(op: str, cell: str, dtypes: tuple[str, ...], direction: str = "forward"):
    """The op's own strategy, in ``dtypes`` (those torch takes there), its
    values drawn from a special distribution."""
    info = ops.get(op)

    def dtypes_for(mode: str, antialias: bool) -> list[str]:
        return [d for d in info.dtypes_for(direction)(mode, antialias) if d in dtypes]

    def with_values(drawn: tuple[Case, str]) -> Case:
        case, distribution = drawn
        return dataclasses.replace(case, input=dataclasses.replace(case.input, distribution=distribution))

    cases = st.tuples(info.strategy(cell, dtypes_for), st.sampled_from(SPECIAL_DISTRIBUTIONS)).map(with_values)
    if direction == "backward":
        cases = cases.map(lambda case: backward_case(case, info.reference)).filter(lambda case: case is not None)
    return cases


def _antialias_to_width_one(case: Case) -> bool:
    """torch's known deviation ``antialias-width-one`` (not a special-value matter)."""
    if case.op != "interpolate" or not case.params.get("antialias"):
        return False
    return plan_interpolate(case.input.shape, **case.params).output_size[-1] == 1


def assert_torch_propagation(case: Case) -> None:
    """torch and the reference agree on every non-finite value (and, for data
    movement, on every bit, signed zeros included); finite values are close."""
    arrays = case.materialize()
    got, _ = ORACLE.run_torch(case, {name: a.copy() for name, a in arrays.items()})
    exact = reference_outputs(case, arrays)
    info = ops.get(case.op)
    for t, e in zip(got, exact):
        assert t.shape == e.shape, case.describe()
        if info.is_exact(case) or e.dtype != np.float64:
            same = compare_exact(t, e, t)
            assert same.passed, f"{case.describe()} ({case.input.distribution}): {same.reason}"
            continue
        r = to_dtype(e, t.dtype)
        t64, r64 = t.astype(np.float64), r.astype(np.float64)
        differ = ~((t64 == r64) | (np.isnan(t64) & np.isnan(r64))) & ~(np.isfinite(t64) & np.isfinite(r64))
        where = np.argwhere(differ)[:3].tolist()
        assert not differ.any(), (
            f"{case.describe()} ({case.input.distribution}): torch and the reference differ on "
            f"{int(differ.sum())} non-finite value(s), e.g. at {where}: torch {[t[tuple(i)] for i in where]}, "
            f"reference {[r[tuple(i)] for i in where]}"
        )
        finite = np.isfinite(t64) & np.isfinite(r64)
        scale = max(1.0, float(np.abs(r64[finite]).max(initial=0.0)))
        tolerance = (1e-3 if t.dtype != np.float64 else 1e-9) * scale
        assert np.all(np.abs(t64[finite] - r64[finite]) <= tolerance), case.describe()


# --------------------------------------------------------------------------
# The reference propagates special values as torch does
# --------------------------------------------------------------------------


#: float32 source coordinates move torch's taps (deviation
#: ``float32-coordinates-zero-weights``): these modes are compared in float64.
FLOAT64_ONLY = {"linear", "bilinear", "bicubic", "trilinear", "lanczos"}


@pytest.mark.parametrize("op,cell", CELLS)
def test_reference_propagates_special_values_as_torch(op, cell):
    dtypes = ("float64",) if op == "interpolate" and cell in FLOAT64_ONLY else ("float32", "float64")

    @settings(max_examples=20, **FAST)
    @given(special_cases(op, cell, dtypes))
    def check(case):
        if _antialias_to_width_one(case):
            return
        assert_torch_propagation(case)

    check()


@pytest.mark.parametrize("op,cell", [("conv_transpose", "2d"), ("max_pool", "2d"), ("max_unpool", "1d")])
def test_reference_gradients_propagate_special_values_as_torch(op, cell):
    @settings(max_examples=15, **FAST)
    @given(special_cases(op, cell, ("float32", "float64"), direction="backward"))
    def check(case):
        assert_torch_propagation(case)

    check()


def _torch_interpolate(x: np.ndarray, **params: Any) -> np.ndarray:
    return F.interpolate(torch.from_numpy(x), **params).numpy()


@pytest.mark.parametrize(
    "params",
    [
        dict(mode="linear", size=7, align_corners=True),  # integer coordinates: the right neighbour, weight 0
        dict(mode="linear", size=4),  # unchanged length: x[i] * 1 + x[i] * 0
        dict(mode="linear", scale_factor=3.0),
        dict(mode="area", size=3),
    ],
)
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
def test_a_special_value_reaches_the_outputs_torch_reads_it_into(params, special):
    for at in range(4):
        x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
        x[0, 0, at] = special
        got, want = reference.interpolate(x, **params), _torch_interpolate(x, **params)
        assert np.array_equal(got, want, equal_nan=True), (at, got, want)


def test_one_nan_does_not_poison_the_rest_of_its_row():
    # the dense-matrix reference made every output of a row NaN (0 * nan)
    x = np.arange(64, dtype=np.float64).reshape(1, 1, 8, 8)
    x[0, 0, 3, 3] = np.nan
    for mode in ("bilinear", "bicubic"):
        got = reference.interpolate(x, scale_factor=2.0, mode=mode)
        want = _torch_interpolate(x, scale_factor=2.0, mode=mode)
        assert np.array_equal(np.isnan(got), np.isnan(want)), mode
        assert 0 < np.isnan(got).sum() < got.size // 2, mode


@pytest.mark.parametrize("mode", ["linear", "bicubic"])
def test_float64_taps_weigh_zero_where_torchs_do(mode):
    # torch's double kernels compute the coordinate with one rounding and
    # floor it through float32: which taps they read, and which of them weigh
    # exactly 0, follows from that (linear: the very weights; bicubic's cubic
    # polynomials round a little differently)
    taps_of = linear_taps if mode == "linear" else cubic_taps
    for n_in, scale in [(10, 9 / 7), (3, 3.0), (7, 10 / 7), (16, 2.6), (5, 0.7)]:
        n_out = int(n_in * scale)
        eye = np.eye(n_in).reshape(n_in, 1, n_in)
        if mode == "bicubic":
            eye = eye[:, :, None, :]
            want = _torch_interpolate(eye, scale_factor=(1.0, scale), mode=mode)[:, 0, 0].T
        else:
            want = _torch_interpolate(eye, scale_factor=scale, mode=mode)[:, 0].T
        taps = taps_of(n_in, n_out, False, scale, "float64")
        reads = np.zeros((n_out, n_in), bool)
        reads[np.arange(n_out)[:, None], taps.index] = True
        got = taps.matrix(n_in)
        if mode == "linear":
            assert np.array_equal(got, want), (n_in, scale)
        else:
            assert np.array_equal(got == 0, want == 0) and np.allclose(got, want, rtol=1e-13, atol=1e-15), (n_in, scale)
        # torch reads exactly these taps: an infinity at input j reaches output i iff i reads j
        for j in range(n_in):
            x = np.zeros((1, 1, 1, n_in) if mode == "bicubic" else (1, 1, n_in))
            x[..., j] = np.inf
            params = dict(scale_factor=(1.0, scale) if mode == "bicubic" else scale, mode=mode)
            hit = ~np.isfinite(_torch_interpolate(x, **params).reshape(-1))
            assert np.array_equal(hit, reads[:, j]), (n_in, scale, j)


# --------------------------------------------------------------------------
# The numpy backend conforms on them
# --------------------------------------------------------------------------


@pytest.mark.parametrize("op,cell", CELLS)
def test_numpy_backend_conforms_on_special_values(op, cell):
    numpy_backend = backends.load("numpy")

    @settings(max_examples=12, **FAST)
    @given(special_cases(op, cell, FLOATS))
    def check(case):
        result = check_case(case, numpy_backend, ORACLE)
        assert result.status == "pass", f"{case.describe()} ({case.input.distribution}): {result.message}"

    check()


def test_hygiene_takes_equal_infinities_as_equal():
    # a non-contiguous input's infinities against a contiguous copy's: |inf - inf| is NaN
    case = Case("interpolate", InputSpec((1, 1, 4, 4), "float32", "specials", 0, "transposed"), {"mode": "bilinear", "size": (5, 5)})
    assert np.isinf(reference.interpolate(case.materialize()["x"], **case.params)).any()
    result = check_case(case, backends.load("numpy"), ORACLE)
    assert result.status == "pass", result.message


# --------------------------------------------------------------------------
# Wrong backends are caught
# --------------------------------------------------------------------------


class NanToZero(NumpyBackend):
    """interpolate with every NaN replaced by 0."""

    name = "nan-to-zero"

    def interpolate(self, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        out = super().interpolate(x, *args, **kwargs)
        return np.where(np.isnan(out), np.zeros((), out.dtype), out) if is_floating(out.dtype) else out


class InfToLargest(NumpyBackend):
    """conv_transpose with infinities clipped to the dtype's largest finite value."""

    name = "inf-to-largest"

    def conv_transpose(self, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        out = super().conv_transpose(x, *args, **kwargs)
        if not is_floating(out.dtype):  # int64 and complex have no such defect to show
            return out
        largest = np.finfo(out.dtype).max
        # np.clip of small bfloat16 arrays may answer float32: the clip is the defect here, not the dtype
        return np.clip(out, -largest, largest).astype(out.dtype, copy=False)


class UnsignedZero(NumpyBackend):
    """pixel_shuffle that loses the sign of -0.0."""

    name = "unsigned-zero"

    def pixel_shuffle(self, x: np.ndarray, upscale_factor: int) -> np.ndarray:
        out = super().pixel_shuffle(x, upscale_factor)
        return out + np.zeros((), out.dtype)  # -0.0 + 0.0 is 0.0


@pytest.mark.parametrize(
    "op,cell,backend",
    [("interpolate", "bilinear", NanToZero()), ("conv_transpose", "2d", InfToLargest()), ("pixel_shuffle", "all", UnsignedZero())],
    ids=lambda v: getattr(v, "name", v),
)
def test_a_wrong_backend_is_caught_on_a_drawn_case(op, cell, backend):
    results: list[Result] = []
    outcome = search_cell(Cell(op, cell, examples=100, seed=0, shrink_seconds=10), backend, "spec", ORACLE, results.append)
    failures = [r for r in results if r.status == "fail"]
    assert failures, f"{backend.name} passed {len(results)} {op} {cell} cases"
    assert outcome.minimal is not None and outcome.minimal.status == "fail"
    assert all(r.case.input.distribution in SPECIAL_DISTRIBUTIONS for r in failures)


# --------------------------------------------------------------------------
# The comparisons
# --------------------------------------------------------------------------


def test_exact_comparison_takes_the_sign_of_zero():
    ref = np.array([-0.0, 0.0, 1.0], dtype=np.float32)
    assert compare_exact(ref.copy(), ref, ref).passed
    lost = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    c = compare_exact(lost, ref, ref)
    assert not c.passed and c.mismatches == 1 and c.worst_index == [0] and "other sign" in c.reason
    # torch losing it is flagged
    assert compare_exact(ref.copy(), ref, lost).torch_off_reference


def test_exact_comparison_nan_equals_nan_and_infinities_only_themselves():
    ref = np.array([np.nan, np.inf, -np.inf], dtype=np.float16)
    assert compare_exact(np.array([-np.nan, np.inf, -np.inf], dtype=np.float16), ref, ref).passed
    largest = np.finfo(np.float16).max
    c = compare_exact(np.array([np.nan, largest, -largest], dtype=np.float16), ref, ref)
    assert not c.passed and c.mismatches == 2


def test_numeric_comparison_overflow_is_the_correctly_rounded_result():
    limit = overflow_threshold("float16")
    assert limit == 65520.0 and overflow_threshold("float64") == np.inf
    exact = np.array([70000.0, -1e6, 1.0])
    rounded = exact.astype(np.float16)  # inf, -inf, 1
    assert compare_numeric(rounded, exact, rounded, "float16").passed
    # clipping to the largest finite value instead is wrong
    clipped = np.array([65504.0, -65504.0, 1.0], dtype=np.float16)
    c = compare_numeric(clipped, exact, rounded, "float16")
    assert not c.passed and c.mismatches == 2
    # an infinity where the exact value is an ordinary number is wrong
    c = compare_numeric(np.array([np.inf, -np.inf, np.inf], dtype=np.float16), exact, rounded, "float16")
    assert not c.passed and c.mismatches == 1 and c.worst_index == [2]
    # just below the threshold, within the rounding slack, either side passes
    near = np.array([65510.0])
    assert compare_numeric(np.array([np.inf], dtype=np.float16), near, np.array([65504.0], dtype=np.float16), "float16").passed
    assert compare_numeric(np.array([65504.0], dtype=np.float16), near, np.array([np.inf], dtype=np.float16), "float16").passed


def test_numeric_comparison_of_an_infinite_reference_needs_that_infinity():
    exact = np.array([np.inf, -np.inf, 2.0])
    torch_out = exact.astype(np.float32)
    assert compare_numeric(torch_out.copy(), exact, torch_out, "float32").passed
    largest = np.finfo(np.float32).max
    c = compare_numeric(np.array([largest, -largest, 2.0], dtype=np.float32), exact, torch_out, "float32")
    assert not c.passed and c.mismatches == 2


@pytest.mark.parametrize("distribution", SPECIAL_DISTRIBUTIONS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_special_distributions_fit_their_dtype(distribution, dtype):
    x = Case("pixel_shuffle", InputSpec((4, 8, 8), dtype, distribution, 1), {"upscale_factor": 2}).materialize()["x"]
    assert x.dtype == np.dtype(dtype)
    finite = x[np.isfinite(x)]
    info = np.finfo(dtype)
    if distribution == "specials":
        assert np.isnan(x).any() and np.isinf(x).any() and np.signbit(x[x == 0]).any()
    elif distribution == "huge":
        assert np.isfinite(x).all()
        top = float(np.abs(finite).max())
        assert top >= (0.5 * float(info.max) if dtype == "float16" else float(info.max) / 2**17)
    else:
        tiny = finite[finite != 0]
        assert (np.abs(tiny) < info.tiny).any() and (np.abs(finite) <= 16 * float(info.tiny)).all()


def test_huge_float16_overflows_through_bicubic_overshoot():
    case = Case("interpolate", InputSpec((1, 2, 6, 6), "float16", "huge", 0), {"mode": "bicubic", "scale_factor": 2.5})
    x = case.materialize()["x"]
    exact = reference.interpolate(x, **case.params)
    assert (np.abs(exact) >= overflow_threshold("float16")).any()  # overshoot beyond float16's range
    result = check_case(case, backends.load("numpy"), ORACLE)
    assert result.status == "pass", result.message
