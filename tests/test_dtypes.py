"""Every dtype torch takes beyond the floats and uint8 (issue 17): signed
integers, bool and complex, drawn, carried to torch and back, compared bit for
bit, rebuilt by repros, and a wrong path caught."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from backends import load
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.cli import main
from conformance.repro import repro
from conformance.tolerance import compare_exact

TORCH = load("torch")
NEW = ("int8", "int16", "int32", "int64", "bool", "complex64", "complex128")


def test_pixel_shuffle_takes_every_dtype_and_differentiates_the_complex_ones():
    """What torch 2.13 CPU takes (tests/test_registry.py checks each claim on torch)."""
    for op in ("pixel_shuffle", "pixel_unshuffle"):
        info = ops.get(op)
        assert set(info.forward_dtypes()) == set(ops.KNOWN_DTYPES) >= set(NEW), op
        assert set(info.backward_dtypes()) == set(ops.FLOATS) | {"complex64", "complex128"}, op


def _draw(dtype: str, distribution: str, shape: tuple[int, ...] = (4, 8, 8, 8)) -> np.ndarray:
    return Case("pixel_shuffle", InputSpec(shape, dtype, distribution, seed=5)).materialize()["x"]


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_integers_reach_both_ends_of_their_dtype(dtype):
    info = np.iinfo(dtype)
    extremes = _draw(dtype, "int_extremes")
    assert extremes.dtype == np.dtype(dtype)
    assert extremes.min() == info.min and extremes.max() == info.max
    spread = _draw(dtype, "integers")
    # the whole range, drawn in the dtype itself (int64: beyond float64's 53 bits)
    quarter = (int(info.max) - int(info.min)) // 4
    assert spread.min() < info.min + quarter and spread.max() > info.max - quarter
    if dtype == "int64":
        assert np.any(spread.astype(np.float64).astype(np.int64) != spread)


def test_bools_and_complex_values():
    b = _draw("bool", "bools")
    assert b.dtype == np.bool_ and b.any() and not b.all()
    for dtype in ("complex64", "complex128"):
        z = _draw(dtype, "complex")
        assert z.dtype == np.dtype(dtype)
        # independent parts: neither zero, nor one a function of the other
        assert np.all(z.imag != 0) and abs(np.corrcoef(z.real.ravel(), z.imag.ravel())[0, 1]) < 0.2
        s = _draw(dtype, "complex_specials")
        # an infinite or NaN part beside a finite other part (not re + 1j*im's NaN)
        assert np.any(np.isinf(s.imag) & np.isfinite(s.real)) and np.any(np.isnan(s.real) & np.isfinite(s.imag))
        assert np.any(np.signbit(s.imag) & (s.imag == 0))


@pytest.mark.parametrize("dtype", NEW)
def test_new_dtypes_reach_torch_and_come_back_bit_for_bit(dtype):
    distribution = {"bool": "bools", "complex64": "complex_specials", "complex128": "complex_specials"}
    x = _draw(dtype, distribution.get(dtype, "int_extremes"))
    t = TORCH.from_numpy(x)
    assert str(t.dtype) == f"torch.{dtype}"
    back = TORCH.to_numpy(t)
    assert back.dtype == x.dtype and back.tobytes() == x.tobytes()


def test_exact_comparison_sees_what_float64_would_hide():
    big = np.array([2**62, -(2**63)], dtype=np.int64)
    off = big + np.array([1, 0], dtype=np.int64)  # equal once cast to float64
    c = compare_exact(off, big, big)
    assert not c.passed and c.mismatches == 1 and c.max_abs == 1.0 and c.worst_index == [0]
    z = np.array([1 + 2j, 3 - 0j], dtype=np.complex64)
    c = compare_exact(z.real.astype(np.complex64), z, z)  # imaginary parts dropped
    assert not c.passed and c.mismatches == 1 and c.max_abs == 2.0
    signed = np.array([1 + 2j, complex(3, -0.0)], dtype=np.complex64)
    c = compare_exact(np.array([1 + 2j, complex(3, 0.0)], dtype=np.complex64), signed, signed)
    assert not c.passed and "zero of the other sign" in c.reason
    flags = np.array([True, False])
    assert compare_exact(flags, flags, flags).passed and not compare_exact(~flags, flags, flags).passed


@pytest.mark.parametrize("dtype,distribution", [("int64", "integers"), ("bool", "bools"), ("complex64", "complex")])
def test_repro_rebuilds_the_inputs_and_shows_no_difference(dtype, distribution):
    case = Case("pixel_shuffle", InputSpec((1, 8, 3, 3), dtype, distribution, seed=2), {"upscale_factor": 2})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(repro(case, "numpy"), {"__name__": "__main__"})
    printed = out.getvalue()
    assert f"expected {dtype} (1, 2, 6, 6) | actual {dtype} (1, 2, 6, 6)" in printed, printed
    assert "max |actual - expected| = 0.0" in printed and "| 0 element(s) differ" in printed, printed


@pytest.mark.parametrize("dtype", ["int64", "complex64"])
def test_a_pixel_shuffle_through_float64_is_caught_at_the_default_example_count(dtype, tmp_path):
    """Moving int64 or complex data as float64 (rounding beyond 2**53, dropping
    the imaginary part) fails; the numpy backend passes the same run."""
    results = tmp_path / "r.jsonl"
    argv = ["run", "--op", "pixel_shuffle", "--dtype", dtype, "--seed", "0", "--no-grad", "--no-isolation"]
    argv += ["--quiet", "--shrink-seconds", "5", "--results", str(results)]
    assert main([argv[0], "--backend", "tests.broken_backends:PixelShuffleThroughFloat64", *argv[1:]]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert any(r.get("type") == "result" and r["status"] == "fail" and r["dtype"] == dtype for r in records)
    assert main([argv[0], "--backend", "numpy", *argv[1:]]) == 0


def test_torch_differentiates_complex_pixel_shuffle_as_the_reference_does():
    x = _draw("complex64", "complex", (1, 4, 2, 2))
    g = _draw("complex64", "complex", (1, 1, 4, 4))
    t = torch.from_numpy(x).requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.nn.functional.pixel_shuffle(t, 2), t, torch.from_numpy(g))
    ours = ops.get("pixel_shuffle").vjp(g, x, upscale_factor=2)["x"]
    assert ours.dtype == np.complex128 and np.array_equal(ours, grad.numpy().astype(np.complex128))


def test_max_pool_takes_the_signed_integers_forward_only_and_max_unpool_none():
    """Measured on torch 2.13 CPU (tests/test_registry.py probes each claim)."""
    info = ops.get("max_pool")
    assert set(ops.SIGNED_INTS) <= set(info.forward_dtypes())
    assert not set(ops.SIGNED_INTS) & set(info.backward_dtypes()) and "bool" not in info.forward_dtypes()
    assert set(ops.get("max_unpool").forward_dtypes()) == set(ops.FLOATS)


@pytest.mark.parametrize("backend", ["numpy", "reference"])
def test_max_pool_keeps_int64_beyond_float64s_precision(backend):
    """Neighbours 2**62 + 1 and 2**62 are one value in float64: the maximum and
    its index must still be the larger; a window of the dtype's minimum (ties,
    padding's fill) names its first element."""
    lo = np.iinfo(np.int64).min
    x = np.array([[[2**62, 2**62 + 1, 2**62 + 1, 2**62, lo, lo]]], dtype=np.int64)
    values, indices = load(backend).max_pool(x, (2,), padding=1)
    t_values, t_indices = torch.nn.functional.max_pool1d(
        torch.from_numpy(x), 2, padding=1, return_indices=True
    )
    assert values.dtype == np.int64 and values.tolist() == t_values.tolist() == [[[2**62, 2**62 + 1, 2**62, lo]]]
    assert indices.tolist() == t_indices.tolist() == [[[0, 1, 3, 5]]]


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_a_max_pool_through_float32_is_caught_at_the_default_example_count(dtype, tmp_path):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--op", "max_pool", "--dtype", dtype, "--seed", "0", "--no-grad", "--no-isolation"]
    argv += ["--quiet", "--shrink-seconds", "5", "--results", str(results)]
    assert main([argv[0], "--backend", "tests.broken_backends:MaxPoolThroughFloat32", *argv[1:]]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert any(r.get("type") == "result" and r["status"] == "fail" and r["dtype"] == dtype for r in records)
    assert main([argv[0], "--backend", "numpy", *argv[1:]]) == 0


def test_conv_transpose_takes_int64_and_complex_and_differentiates_complex():
    info = ops.get("conv_transpose")
    assert {"int64", "complex64", "complex128"} <= set(info.forward_dtypes())
    assert "int64" not in info.backward_dtypes() and {"complex64", "complex128"} <= set(info.backward_dtypes())


def test_the_reference_keeps_the_imaginary_part_and_refuses_what_it_does_not_define():
    from reference import conv_transpose
    from reference.dtypes import exact_dtype

    x = _draw("complex64", "complex", (1, 2, 3))
    w = _draw("complex64", "complex", (2, 1, 2))
    ours = conv_transpose(x, w)
    want = torch.nn.functional.conv_transpose1d(torch.from_numpy(x).cdouble(), torch.from_numpy(w).cdouble())
    assert ours.dtype == np.complex128 and np.allclose(ours, want.numpy(), rtol=1e-6)
    big = np.array([[[2**62 + 1, 3]]], dtype=np.int64)
    one = np.ones((1, 1, 1), dtype=np.int64)
    assert conv_transpose(big, one).tolist() == [[[2**62 + 1, 3]]]  # int64 arithmetic, no float64 on the way
    with pytest.raises(TypeError, match="no arithmetic for bool"):
        exact_dtype(np.bool_)


@pytest.mark.parametrize("backend", ["numpy", "reference"])
def test_complex_gradient_follows_torchs_conjugate_convention(backend):
    """torch's gradient of a complex op is J^H g (conj(J) transposed): checked
    against torch.autograd, and apart from the plain transpose J^T g."""
    x = _draw("complex128", "complex", (1, 2, 3))
    w = _draw("complex128", "complex", (2, 2, 2))
    g = _draw("complex128", "complex", (1, 2, 4))
    tx, tw = (torch.from_numpy(a).requires_grad_(True) for a in (x, w))
    want = torch.autograd.grad(torch.nn.functional.conv_transpose1d(tx, tw), (tx, tw), torch.from_numpy(g))
    ours = load(backend).vjp("conv_transpose", g, x, weight=w)
    assert np.allclose(ours["x"], want[0].numpy()) and np.allclose(ours["weight"], want[1].numpy())
    plain = load(backend).vjp("conv_transpose", g, x.conj(), weight=w.conj())  # J^T g
    assert not np.allclose(plain["x"], want[0].numpy())


def test_a_conv_transpose_that_drops_the_imaginary_part_is_caught(tmp_path):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--op", "conv_transpose", "--dtype", "complex64", "--seed", "0", "--no-grad", "--no-isolation"]
    argv += ["--quiet", "--shrink-seconds", "5", "--results", str(results)]
    assert main([argv[0], "--backend", "tests.broken_backends:ConvTransposeDropsImaginary", *argv[1:]]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert any(r.get("type") == "result" and r["status"] == "fail" and r["dtype"] == "complex64" for r in records)


def test_a_complex_result_that_depends_on_the_layout_only_in_its_imaginary_part_is_caught():
    """The layout check compares complex results as complex numbers: each
    layout's result within the bound of the exact one, yet the two further
    apart than it, in the imaginary part alone."""
    from conformance.execute import Oracle
    from conformance.verdict import check_case
    from tests.broken_backends import NumpyBackend

    weight = ("weight", InputSpec((2, 2, 3, 2), "complex64", "complex", 7))
    x = InputSpec((1, 2, 6, 5), "complex64", "complex", 3, "transposed")
    case = Case("conv_transpose", x, {"stride": (2, 1), "padding": (0, 0)}, (weight,))
    numpy_backend, oracle = load("numpy"), Oracle()
    honest = check_case(case, numpy_backend, oracle)
    assert honest.status == "pass", honest.message
    tilt = 0.6j * honest.comparison.bound

    class TiltsByLayout(NumpyBackend):
        name = "tilts-by-layout"

        def conv_transpose(self, x, *args, **kwargs):
            out = super().conv_transpose(x, *args, **kwargs)
            return (out + (tilt if x.flags.c_contiguous else -tilt)).astype(out.dtype)

    result = check_case(case, TiltsByLayout(), oracle)
    assert result.status == "fail" and "contiguous copy" in result.message, result.message
