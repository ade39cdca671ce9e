"""bfloat16, through ml_dtypes: drawn, carried to torch and back bit for bit,
computed by the numpy backend as torch's CPU kernels do (float32, one
rounding), measured in bfloat16 units, and conforming end to end."""

from __future__ import annotations

import json
import types

import ml_dtypes
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backends import load
from backends.cupy_backend import CupyBackend
from backends.xp import compute_dtype
from conformance import ops
from conformance.cases import DISTRIBUTIONS, LAYOUTS, InputSpec
from conformance.cli import main
from conformance.tolerance import EPS, SLACK_ULPS, ulp_at
from reference.dtypes import BFLOAT16, is_floating

TORCH = load("torch")
NUMPY = load("numpy")


def test_bfloat16_is_a_registry_dtype_of_every_op_torch_runs_it_in():
    """What torch 2.13 CPU takes (tests/test_registry.py checks each claim on torch)."""
    assert "bfloat16" in ops.KNOWN_DTYPES and "bfloat16" in ops.FLOATS
    interpolate = ops.get("interpolate")
    for mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"):
        assert "bfloat16" in interpolate.forward_dtypes(mode) and "bfloat16" in interpolate.backward_dtypes(mode)
    for mode in ("bilinear", "bicubic", "lanczos"):  # no reduced-precision antialias kernels
        assert "bfloat16" not in interpolate.forward_dtypes(mode, True)
    for op in ("conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle"):
        assert "bfloat16" in ops.get(op).forward_dtypes() and "bfloat16" in ops.get(op).backward_dtypes(), op
    for alias in ("upsample", "Upsample"):
        assert "bfloat16" in ops.get(alias).forward_dtypes("bilinear")


def test_list_shows_the_dtypes(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "forward dtypes: float16, bfloat16, float32, float64, uint8 (nearest" in out
    assert "float32, float64, uint8 (bilinear antialias, bicubic antialias, lanczos)" in out


@pytest.mark.parametrize("distribution", ["normal", "unit", "large", "specials", "huge", "subnormal"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_inputs_are_ml_dtypes_arrays_and_reach_torch_bit_for_bit(distribution, layout):
    spec = InputSpec((2, 3, 4, 5), "bfloat16", distribution, seed=3, layout=layout)
    assert "ml_dtypes.bfloat16" in "\n".join(spec.code())
    from conformance.cases import Case

    x = Case("interpolate", spec).materialize()["x"]
    assert x.dtype == BFLOAT16 and is_floating(x.dtype)
    t = TORCH.from_numpy(x)
    assert t.dtype == torch.bfloat16 and t.shape == x.shape
    # the same values as torch's own float32 -> bfloat16 cast (infinities, signed
    # zeros; NaN payloads aside, which a cast need not keep)
    same = torch.from_numpy(x.astype(np.float32)).to(torch.bfloat16)
    bits_equal = t.view(torch.int16) == same.view(torch.int16)
    assert bool((bits_equal | (t.isnan() & same.isnan())).all())
    back = TORCH.to_numpy(t)
    assert back.dtype == BFLOAT16 and np.array_equal(back.view(np.int16), x.view(np.int16))
    if distribution == "huge":  # float32 sums of a few keep clear of overflow (2**16 of headroom)
        assert np.abs(x.astype(np.float64)).max() <= np.finfo(np.float32).max / 2**15
    assert "np.{dtype}" not in DISTRIBUTIONS[distribution]  # NumPy has no np.bfloat16


def test_tolerance_counts_in_bfloat16_units():
    assert EPS["bfloat16"] == 2.0**-7 and SLACK_ULPS["bfloat16"] < 0.25  # below a truncation's quarter step
    assert ulp_at("bfloat16", 1.0) == 2.0**-7 and ulp_at("bfloat16", 300.0) == 2.0
    assert compute_dtype(BFLOAT16) == np.float32


def _bf16(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(ml_dtypes.bfloat16)


#: Calls on which torch CPU computes bfloat16 in float32 and rounds once: its
#: bfloat16 result is its float32 result rounded (measured).  Elsewhere torch
#: is further from the exact result than that: linear, trilinear and bicubic
#: at non-integer scales round their weights to bfloat16 first, area's 3-D
#: forward, area's backward and conv_transpose sum in other ways.
ROUNDS_ONCE = [
    ("nearest", (2, 3, 7, 9), {"scale_factor": 1.7}),
    ("nearest-exact", (2, 3, 7, 9), {"scale_factor": 0.6}),
    ("bilinear", (2, 3, 7, 9), {"scale_factor": 0.6}),
    ("bilinear", (2, 3, 7, 9), {"scale_factor": 1.7, "align_corners": True}),
    ("bicubic", (2, 3, 7, 9), {"scale_factor": 2.0}),
    ("linear", (2, 3, 11), {"scale_factor": 2.0}),
    ("area", (2, 3, 7, 9), {"scale_factor": 0.6}),
]


def _eps_apart(a: np.ndarray, b: np.ndarray, magnitude: float) -> float:
    """The largest distance in bfloat16 eps at ``magnitude`` (the tolerance's
    unit: a result near zero from cancelling terms carries their rounding)."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max(initial=0.0) / (EPS["bfloat16"] * magnitude))


@pytest.mark.parametrize("mode,shape,params", ROUNDS_ONCE)
def test_numpy_computes_bfloat16_as_torch_does(mode, shape, params):
    """float32 arithmetic, one rounding: the numpy backend's bfloat16 result is
    its float32 result rounded, forward and backward; torch's is too on these
    calls, so the two are at most one eps at the data's magnitude apart (the
    float32 sums' order differs: separable passes against torch's fused ones),
    equal when data moves."""
    for seed in range(5):
        x = _bf16(shape, seed)
        actual = NUMPY.interpolate(x, mode=mode, **params)
        assert actual.dtype == BFLOAT16
        wide = NUMPY.interpolate(x.astype(np.float32), mode=mode, **params)
        assert np.array_equal(actual.view(np.int16), wide.astype(BFLOAT16).view(np.int16)), (mode, seed)
        g = _bf16(actual.shape, seed + 100)
        grad = NUMPY.vjp("interpolate", g, x, mode=mode, **params)["x"]
        wide_grad = NUMPY.vjp("interpolate", g.astype(np.float32), x.astype(np.float32), mode=mode, **params)["x"]
        assert np.array_equal(grad.view(np.int16), wide_grad.astype(BFLOAT16).view(np.int16)), (mode, seed)
        t = F.interpolate(TORCH.from_numpy(x), mode=mode, **params)
        expected = TORCH.to_numpy(t)
        rounded = TORCH.to_numpy(F.interpolate(TORCH.from_numpy(x).float(), mode=mode, **params).bfloat16())
        assert np.array_equal(expected.view(np.int16), rounded.view(np.int16)), ("torch rounds once", mode, seed)
        magnitude = float(np.abs(x.astype(np.float64)).max())
        assert _eps_apart(actual, expected, magnitude) <= (0 if mode.startswith("nearest") else 1), (mode, seed)
    # bfloat16 arithmetic throughout would not do (the checks above have teeth)
    x = _bf16((1, 64, 16), 9)
    lossy = np.add.reduce(x, axis=1, dtype=BFLOAT16)
    assert not np.array_equal(lossy, x.astype(np.float32).sum(axis=1).astype(BFLOAT16))


def test_max_pool_and_pixel_shuffle_move_bfloat16_exactly():
    x = _bf16((2, 3, 6, 6), 1)
    values, indices = NUMPY.max_pool(x, (2, 2))
    tv, ti = F.max_pool2d(TORCH.from_numpy(x), (2, 2), return_indices=True)
    assert np.array_equal(values.view(np.int16), TORCH.to_numpy(tv).view(np.int16))
    assert np.array_equal(indices, ti.numpy())
    shuffled = NUMPY.pixel_shuffle(_bf16((1, 4, 3, 3), 2), 2)
    assert shuffled.dtype == BFLOAT16


def test_cupy_says_bfloat16_is_unsupported():
    fake = types.ModuleType("cupy")  # any module but NumPy stands for CuPy here
    assert "bfloat16" in CupyBackend(fake).unsupported_reason("interpolate", "bfloat16", {})
    assert CupyBackend(np).unsupported_reason("interpolate", "bfloat16", {}) is None


def test_numpy_and_reference_conform_on_bfloat16_for_every_op(tmp_path):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", "numpy", "--backend", "reference", "--dtype", "bfloat16", "--examples", "6"]
    code = main([*argv, "--seed", "1", "--jobs", "1", "--quiet", "--results", str(results), "--shrink-seconds", "5"])
    records = [json.loads(line) for line in results.read_text().splitlines()]
    checked = [r for r in records if r.get("type") == "result" and r.get("dtype") == "bfloat16"]
    assert code == 0, [r["message"] for r in checked if r["status"] not in ("pass", "unsupported")][:3]
    seen = {(r["op"], r["direction"]) for r in checked if r["status"] == "pass"}
    for op in ops.names():
        for direction in ops.get(op).directions():
            assert (op, direction) in seen, (op, direction)


@pytest.mark.parametrize("name", ["bfloat16-rounded-per-tap", "bfloat16-truncated"])
def test_a_wrong_bfloat16_path_is_caught_at_the_default_example_count(name, tmp_path):
    """Summing in bfloat16, or truncating the float32 result, fails bilinear
    bfloat16 at the default 100 examples (the numpy backend, doing it right,
    passes the same run above)."""
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", f"variant:{name}", "--op", "interpolate", "--mode", "bilinear", "--dtype", "bfloat16"]
    argv += ["--seed", "0", "--no-grad", "--no-isolation", "--quiet", "--shrink-seconds", "5", "--results", str(results)]
    assert main(argv) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert any(r.get("type") == "result" and r["status"] == "fail" for r in records)
