"""The registry, the built-in backends and the dtype table they share."""

from importlib import metadata

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import backends
from backends import Backend, BackendLoadError, load


def test_builtin_names_load_and_satisfy_the_protocol():
    for name in ("numpy", "reference", "torch", "torch-cuda"):
        backend = load(name)
        assert isinstance(backend, Backend)
        assert backend.name == name
        assert isinstance(backend.availability(), tuple)


def test_module_attribute_spec_takes_a_class_an_instance_or_a_factory():
    assert load("tests.broken_backends:IgnoresAlignCorners").name == "ignores-align-corners"
    assert load("tests.broken_backends:ignores_align_corners").name == "ignores-align-corners"
    assert load("backends.torch_backend:TorchBackend").name == "torch"


@pytest.mark.parametrize(
    "spec,message",
    [
        ("nope", "unknown backend"),
        ("nope.module:X", "cannot import"),
        ("backends:nothing_here", "no attribute"),
        ("backends:ENTRY_POINT_GROUP", "lacks"),
        ("backends.torch_backend:TorchBackend.interpolate", "no attribute"),
    ],
)
def test_bad_specs_raise_backend_load_error(spec, message):
    with pytest.raises(BackendLoadError, match=message):
        load(spec)


def test_entry_point_backends_are_listed_and_loaded(monkeypatch):
    ep = metadata.EntryPoint(
        name="wrapped-numpy", value="tests.broken_backends:IgnoresAlignCorners", group=backends.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(backends.metadata, "entry_points", lambda group: [ep] if group == ep.group else [])
    assert "wrapped-numpy" in backends.names()
    assert load("wrapped-numpy").name == "ignores-align-corners"


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "uint8"])
def test_numpy_backend_keeps_dtype_and_input(dtype):
    rng = np.random.default_rng(0)
    x = (rng.random((2, 3, 5, 7)) * 200).astype(dtype)
    before = x.copy()
    out = load("numpy").interpolate(x, scale_factor=1.7, mode="bicubic", align_corners=True)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(x, before)
    if dtype == "uint8":
        # torch's uint8 bicubic clamps between its two passes (several units off
        # the exact result); ours rounds the exact result once
        expected = load("reference").interpolate(x, scale_factor=1.7, mode="bicubic", align_corners=True)
        tol = 1
    else:
        expected = F.interpolate(torch.from_numpy(x), scale_factor=1.7, mode="bicubic", align_corners=True).numpy()
        tol = 0.5
    assert np.abs(out.astype(float) - expected.astype(float)).max() <= tol


@pytest.mark.parametrize("dtype", ["bool", "uint8", "float16", "float32", "int64", "complex64", "float64"])
@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 5, 7), (1, 2, 3, 4, 5)])
def test_numpy_nearest_at_integer_factors_is_torchs(dtype, shape):
    """Integer factors take the repeat path (``_repeat_blocks``: wide
    integers where p elements are 2, 4 or 8 bytes, else the passes); every
    dtype, rank and factor gives the reference's bits (exact data movement)."""
    x = (np.random.default_rng(2).standard_normal(shape) * 50).astype(dtype)
    nb = load("numpy")
    for factor in (1, 2, 3, 4, 8):
        for mode in ("nearest", "nearest-exact"):
            expected = load("reference").interpolate(x, scale_factor=factor, mode=mode)
            np.testing.assert_array_equal(nb.interpolate(x, scale_factor=factor, mode=mode), expected)


def test_numpy_backend_non_contiguous_equals_contiguous():
    x = np.random.default_rng(1).standard_normal((2, 2, 6, 9)).astype(np.float32)
    strided = np.ascontiguousarray(x.swapaxes(-1, -2)).swapaxes(-1, -2)
    nb = load("numpy")
    for mode in ("nearest", "bilinear", "area", "bicubic"):
        np.testing.assert_array_equal(
            nb.interpolate(x, size=(4, 13), mode=mode), nb.interpolate(strided, size=(4, 13), mode=mode)
        )


def test_numpy_backend_raises_torchs_classes():
    nb = load("numpy")
    with pytest.raises(ValueError):
        nb.interpolate(np.zeros((1, 1, 4, 4)), size=2, scale_factor=2.0)
    with pytest.raises(NotImplementedError):
        nb.interpolate(np.zeros((1, 1, 4, 4)), scale_factor=2.0, mode="trilinear")


def test_reference_backend_rounds_to_the_input_dtype():
    # bicubic overshoots past 0 and 255: the uint8 result is clamped
    x4 = np.array([[[[0, 255, 255, 0]]]], dtype=np.uint8)
    out = load("reference").interpolate(x4, size=(1, 9), mode="bicubic")
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() == 0
