"""The NumPy backend's gradients (``backends.xp.gradients``) against the
float64 adjoints of ``reference.gradients``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import currently_in_test_context, given, reject, settings
from hypothesis import strategies as st

import reference
from backends.numpy_backend import NumpyBackend
from backends.xp.gradients import conv_transpose_vjp, interpolate_vjp, transposed_taps, vjp
from conformance import ops
from conformance.cases import Case
from conformance.strategies import (
    conv_transpose_cases,
    fixed_interpolate_cases,
    fixed_large_cases,
    interpolate_cases,
    max_pool_cases,
    max_unpool_cases,
    pixel_shuffle_cases,
)
from reference.gradients import vjp as reference_vjp
from reference.interpolate import MODE_RANKS, axis_taps, plan_interpolate

BACKEND = NumpyBackend()
FLOATS = ("float16", "float32", "float64")
#: Allowed error, relative to the sum of absolute terms of each element: float64
#: and float32 for a different order of summation, float16 for the rounding of
#: the float32 result to float16; plus a few of each dtype's subnormal spacing
#: (float32 and float64 sum subnormal terms rounded in their own dtype).
RELATIVE = {"float64": 1e-12, "float32": 1e-5, "float16": 1e-3}
FLOOR = {"float64": 64 * 5e-324, "float32": 64 * 1.4e-45, "float16": 6e-8}
#: Ops whose gradient only moves values: equal to the reference bit for bit.
PERMUTATIONS = ("max_unpool", "pixel_shuffle", "pixel_unshuffle")


def _floats(mode: str, antialias: bool) -> tuple[str, ...]:
    return tuple(
        d
        for d in FLOATS
        if BACKEND.unsupported_reason("interpolate:backward", d, {"mode": mode, "antialias": antialias}) is None
    )


def _forward_output(case: Case, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """The reference forward's output (values for max_pool); ``None`` where a
    max-pooling window wholly in the padding names an index outside the plane."""
    operands = {k: v for k, v in arrays.items() if k != "x"}
    out = getattr(reference, case.op)(arrays["x"], **operands, **case.params)
    if case.op == "max_pool":
        values, indices = out
        rank = len(case.params["kernel_size"])
        if indices.size and indices.max() >= math.prod(arrays["x"].shape[-rank:]):
            return None
        return values
    return out


def check_case(case: Case) -> None:
    """Gradients of ``case`` for a seeded cotangent: keys, shapes, dtypes, the
    reference's values within tolerance, and the same bits on a second call."""
    arrays = case.materialize()
    out = _forward_output(case, arrays)
    if out is None:
        # No gradient to check: a drawn case is rejected (not counted as a
        # pass); a fixed case must have one.
        assert currently_in_test_context(), f"{case.describe()}: no gradient to check"
        reject()
    dtype = case.dtype
    g = np.random.default_rng(case.input.seed ^ 0x5EED).standard_normal(out.shape).astype(dtype)
    x = arrays.pop("x")
    kwargs = {**arrays, **case.params}
    grads = BACKEND.vjp(case.op, g, x, **kwargs)
    again = vjp(np, case.op, g, x, **kwargs)

    names = [n for n in ops.get(case.op).differentiable if n == "x" or n in arrays]
    assert sorted(grads) == sorted(names)
    exact = reference_vjp(case.op, g, x, **kwargs)
    absolute = reference_vjp(case.op, g, x, absolute=True, **kwargs)
    for name in names:
        source = x if name == "x" else arrays[name]
        actual = grads[name]
        assert isinstance(actual, np.ndarray)
        assert actual.shape == source.shape, (name, actual.shape, source.shape)
        assert actual.dtype == source.dtype, (name, actual.dtype, source.dtype)
        assert actual.tobytes() == again[name].tobytes(), f"{name}: not deterministic"
        if case.op in PERMUTATIONS:
            np.testing.assert_array_equal(actual, exact[name].astype(dtype), err_msg=name)
            continue
        error, bound = _error_and_bound(actual, exact[name], absolute[name], dtype)
        worst = np.unravel_index(np.argmax(error - bound), error.shape) if error.size else None
        assert (error <= bound).all(), f"{name}: error {error[worst]} > {bound[worst]} at {worst} ({case.describe()})"


def _error_and_bound(actual: np.ndarray, exact: np.ndarray, absolute: np.ndarray, dtype: str):
    """``|actual - exact|`` and its bound; where the exact value is not finite,
    or overflows ``dtype``, ``actual`` must be that value (NaN equal to NaN)."""
    a64 = actual.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = exact.astype(dtype).astype(np.float64)
        error = np.abs(a64 - exact)
    same = (a64 == rounded) | (np.isnan(a64) & np.isnan(rounded))
    special = ~np.isfinite(rounded) | ~np.isfinite(a64)
    error = np.where(special, np.where(same, 0.0, np.inf), error)
    with np.errstate(invalid="ignore"):
        bound = np.where(special, 0.0, RELATIVE[dtype] * absolute + FLOOR[dtype])
    return error, bound


# --------------------------------------------------------------------------
# Drawn cases, every op and cell
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODE_RANKS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_interpolate_gradients(mode, data):
    check_case(data.draw(interpolate_cases(mode, _floats)))


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_conv_transpose_gradients(rank, data):
    check_case(data.draw(conv_transpose_cases(rank, FLOATS)))


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_max_pool_gradients(rank, data):
    check_case(data.draw(max_pool_cases(rank, FLOATS)))


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_max_unpool_gradients(rank, data):
    check_case(data.draw(max_unpool_cases(rank, FLOATS)))


@pytest.mark.parametrize("op", ["pixel_shuffle", "pixel_unshuffle"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pixel_shuffle_gradients(op, data):
    check_case(data.draw(pixel_shuffle_cases(op, FLOATS)))


# --------------------------------------------------------------------------
# Larger fixed cases: periodic runs, many planes, several blocks
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [c for mode in MODE_RANKS for c in fixed_interpolate_cases(mode, _floats)]
    + [
        c
        for op, cell in [("conv_transpose", "2d"), ("max_pool", "2d"), ("max_unpool", "2d")]
        for c in fixed_large_cases(op, cell)
    ]
    + fixed_large_cases("pixel_shuffle", "all")
    + fixed_large_cases("pixel_unshuffle", "all"),
    ids=lambda c: c.describe()[:60],
)
def test_fixed_large_cases(case):
    check_case(case)


def test_blocks_do_not_change_the_result_beyond_rounding():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 9, 11)).astype(np.float32)
    params = {"mode": "bicubic", "scale_factor": 2.0}
    g = rng.standard_normal((3, 4, 18, 22)).astype(np.float32)
    one = interpolate_vjp(np, g, x, **params, block_bytes=None)["x"]
    many = interpolate_vjp(np, g, x, **params, block_bytes=1)["x"]
    np.testing.assert_array_equal(one, many)

    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    g = rng.standard_normal((3, 3, 18, 22)).astype(np.float32)
    conv = {"weight": w, "bias": b, "stride": 2, "padding": 1, "output_padding": 1}
    one = conv_transpose_vjp(np, g, x, **conv, block_bytes=None)
    many = conv_transpose_vjp(np, g, x, **conv, block_bytes=1)
    np.testing.assert_array_equal(one["x"], many["x"])
    exact = reference_vjp("conv_transpose", g, x, **conv)
    absolute = reference_vjp("conv_transpose", g, x, absolute=True, **conv)
    for name in exact:
        assert (np.abs(many[name] - exact[name]) <= 1e-5 * absolute[name]).all(), name


def test_transposed_taps_are_the_transposed_matrix():
    for mode, params in [
        ("bilinear", {"scale_factor": 2.0}),
        ("bicubic", {"size": (5, 13), "align_corners": True}),
        ("area", {"size": (3, 4)}),
        ("nearest", {"size": (2, 3)}),
        ("lanczos", {"size": (4, 17), "antialias": True}),
    ]:
        plan = plan_interpolate((1, 1, 7, 6), mode=mode, **params)
        for d in range(2):
            taps = axis_taps(plan, d, 4)
            if taps is None:
                continue
            n_in = plan.input_size[d]
            np.testing.assert_allclose(transposed_taps(taps, n_in).matrix(plan.output_size[d]), taps.matrix(n_in).T)


# --------------------------------------------------------------------------
# Hand-made cases
# --------------------------------------------------------------------------


def test_max_pool_window_wholly_in_padding_adds_where_torch_does():
    # Width 1, kernel 2 dilated by 2, padding 1: the window's taps sit at -1 and
    # 1, both outside; its index is 1 -- row r's window names flat position
    # r + 1, the next row's first element (torch adds its cotangent there);
    # the last row's names position 3, outside the plane: nothing is added.
    x = np.arange(3.0).reshape(1, 1, 3, 1)
    params = {"kernel_size": (1, 2), "padding": (0, 1), "dilation": (1, 2)}
    values, indices = reference.max_pool(x, **params)
    assert indices.ravel().tolist() == [1, 2, 3]
    g = np.array([10.0, 20.0, 40.0]).reshape(values.shape)
    grad = vjp(np, "max_pool", g, x, **params)["x"]
    assert grad.ravel().tolist() == [0.0, 10.0, 20.0]


def test_overlapping_windows_add_up():
    x = np.array([[[0.0, 5.0, 1.0, 0.0]]], dtype=np.float32)
    grad = vjp(np, "max_pool", np.ones((1, 1, 3), np.float32), x, kernel_size=2, stride=1)["x"]
    assert grad.tolist() == [[[0.0, 2.0, 1.0, 0.0]]]


def test_empty_inputs_give_zeros():
    x = np.zeros((0, 2, 4, 4), np.float32)
    for op, kwargs, out in [
        ("interpolate", {"mode": "bilinear", "scale_factor": 2.0}, (0, 2, 8, 8)),
        ("max_pool", {"kernel_size": 2}, (0, 2, 2, 2)),
        ("pixel_shuffle", {"upscale_factor": 1}, (0, 2, 4, 4)),
        ("pixel_unshuffle", {"downscale_factor": 2}, (0, 2, 4, 4)),  # shape unchanged, as the forward's
    ]:
        grad = vjp(np, op, np.zeros(out, np.float32), x, **kwargs)["x"]
        assert grad.shape == x.shape and grad.dtype == x.dtype
    w = np.ones((2, 3, 2, 2), np.float32)
    grads = vjp(np, "conv_transpose", np.zeros((0, 3, 5, 5), np.float32), x, weight=w, bias=np.ones(3, np.float32))
    assert grads["weight"].shape == w.shape and not grads["weight"].any() and not grads["bias"].any()


# --------------------------------------------------------------------------
# Errors and the backend's answers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", [c for c in ops.invalid_calls() if ops.get(c.op).vjp is not None], ids=lambda c: c.describe()[:70]
)
def test_invalid_calls_raise_the_forwards_exception_class(case):
    arrays = case.materialize()
    x = arrays.pop("x")
    with pytest.raises(Exception) as forward:
        getattr(BACKEND, case.op)(x, **arrays, **case.params)
    with pytest.raises(Exception) as backward:
        BACKEND.vjp(case.op, np.zeros(1, x.dtype), x, **arrays, **case.params)
    assert type(backward.value) is type(forward.value), (backward.value, forward.value)


def test_other_refusals():
    x = np.ones((1, 1, 4, 4), np.float32)
    with pytest.raises(RuntimeError, match="shape"):
        vjp(np, "interpolate", np.ones((1, 1, 4, 4), np.float32), x, mode="nearest", scale_factor=2.0)
    with pytest.raises(RuntimeError, match="shape"):
        vjp(np, "pixel_shuffle", np.ones((1, 4, 4), np.float32), x, upscale_factor=1)
    with pytest.raises(RuntimeError, match="floating"):
        vjp(np, "pixel_shuffle", x.astype(np.uint8), x.astype(np.uint8), upscale_factor=1)
    with pytest.raises(RuntimeError, match="type"):
        vjp(np, "conv_transpose", np.ones((1, 1, 5, 5), np.float32), x, weight=np.ones((1, 1, 2, 2)))
    with pytest.raises(RuntimeError, match="invalid max index"):
        vjp(np, "max_unpool", np.ones((1, 1, 8, 8), np.float32), x, indices=np.full(x.shape, 64), kernel_size=2)
    # One pass finds a negative index too (read unsigned, it is the largest), and torch's message names it.
    negative = np.zeros(x.shape, np.int64)
    negative[0, 0, 3, 1] = -1
    for call in (
        lambda: vjp(np, "max_unpool", np.ones((1, 1, 8, 8), np.float32), x, indices=negative, kernel_size=2),
        lambda: NumpyBackend().max_unpool(x, negative, 2),
    ):
        with pytest.raises(RuntimeError, match=r"invalid max index: -1 \(output volumes are of size 8x8\)"):
            call()
    with pytest.raises(NotImplementedError):
        vjp(np, "upsample", x, x, size=4)


def test_gradient_dtypes_come_from_the_registry():
    """Gradients are checked in the floating dtypes torch's forward takes; the
    aliases (interpolate calls) have none of their own."""
    for op in ops.names():
        info = ops.get(op)
        if info.alias_of is not None:
            assert info.backward_dtypes("nearest") == (), op
            continue
        assert set(info.backward_dtypes("bilinear")) == set(ops.DIFFERENTIABLE) & set(
            info.forward_dtypes("bilinear")
        ), op
    interpolate = ops.get("interpolate")
    assert interpolate.backward_dtypes("lanczos", True) == ("float32", "float64")
    assert "float16" not in interpolate.backward_dtypes("bilinear", True)
    assert "uint8" not in interpolate.backward_dtypes("nearest")


def test_cotangent_layout_does_not_matter():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 5))
    g = rng.standard_normal((2, 3, 10, 12)).swapaxes(-1, -2)[..., ::-1]  # non-contiguous
    params = {"mode": "bilinear", "scale_factor": 2.0}
    a = vjp(np, "interpolate", g, x, **params)["x"]
    b = vjp(np, "interpolate", np.ascontiguousarray(g), x, **params)["x"]
    np.testing.assert_array_equal(a, b)


def test_unpooling_a_plane_at_a_time_is_torchs():
    """Planes of at least ``PLANE_LOOP`` indices are scattered and gathered a
    plane at a time: max_unpool, its gradient and max_pool's (from the
    residual indices too) equal torch's bits there."""
    import torch

    from backends import load
    from backends.xp.unpooling import PLANE_LOOP

    x = np.random.default_rng(3).standard_normal((2, 3, 80, 96)).astype(np.float32)
    assert 40 * 48 >= PLANE_LOOP
    nb = load("numpy")
    values, indices = nb.max_pool(x, 2)
    tx = torch.from_numpy(x).requires_grad_(True)
    t_values, t_indices = torch.nn.functional.max_pool2d(tx, 2, return_indices=True)
    g = np.random.default_rng(4).standard_normal(values.shape).astype(np.float32)
    (expected,) = torch.autograd.grad(t_values, tx, torch.from_numpy(g))
    np.testing.assert_array_equal(nb.vjp("max_pool", g, x, kernel_size=2)["x"], expected.numpy())
    saved = nb.forward_with_residuals("max_pool", x, kernel_size=2)[1]
    np.testing.assert_array_equal(nb.vjp_from_residuals("max_pool", saved, g)["x"], expected.numpy())

    tv = torch.from_numpy(values).requires_grad_(True)
    unpooled = torch.nn.functional.max_unpool2d(tv, t_indices, 2)
    np.testing.assert_array_equal(nb.max_unpool(values, indices, 2), unpooled.detach().numpy())
    gu = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    (expected,) = torch.autograd.grad(unpooled, tv, torch.from_numpy(gu))
    got = nb.vjp("max_unpool", gu, values, indices=indices, kernel_size=2)["x"]
    np.testing.assert_array_equal(got, expected.numpy())


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "params"),
    [
        ((1, 256, 28, 28), (256, 128, 2, 2), {"stride": 2}),  # U-Net's up-convolution, scaled down
        ((1, 128, 9, 9, 7), (128, 128, 2, 2, 2), {"stride": 2}),  # the 3-D U-Net's, scaled down
        ((64, 256, 4, 4), (256, 128, 4, 4), {"stride": 2, "padding": 1}),  # DCGAN's: many small samples
        ((2, 16, 64, 64), (16, 8, 4, 4), {"stride": 2, "padding": 1}),  # few channels, large planes
    ],
)
def test_conv_transpose_peak_memory_is_at_most_twice_the_result(x_shape, w_shape, params):
    """Forward and backward make their im2col matrices in blocks whose
    temporaries fit in the result's bytes: the most memory a call holds at
    once (tracemalloc, its result included) stays within twice its result
    (results of 0.8 to 3 MB: Python's own allocations stay small beside them)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    backend = NumpyBackend()

    def peak(call):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            result = call()
            return tracemalloc.get_traced_memory()[1] - before, result
        finally:
            tracemalloc.stop()

    used, y = peak(lambda: backend.conv_transpose(x, w, **params))
    assert used <= 2 * y.nbytes, (used, y.nbytes)
    g = rng.standard_normal(y.shape, dtype=np.float32)
    used, grads = peak(lambda: backend.vjp("conv_transpose", g, x, weight=w, **params))
    assert used <= 2 * (grads["x"].nbytes + grads["weight"].nbytes), (used, x.nbytes + w.nbytes)
    expected = reference_vjp(
        "conv_transpose", g.astype(np.float64), x.astype(np.float64), weight=w.astype(np.float64), **params
    )
    for name in ("x", "weight"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-3, atol=1e-3 * np.abs(expected[name]).max())
