"""The references of conv_transpose, max_pool/max_unpool, pixel (un)shuffle and
the aliases against torch 2.13, in float64, and their invalid calls."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from backends import load
from conformance import ops
from conformance.strategies import (
    alias_cases,
    conv_transpose_cases,
    max_pool_cases,
    max_unpool_cases,
    pixel_shuffle_cases,
)

TORCH = load("torch")
F64 = ["float64"]


def torch_result(case, arrays):
    args = {k: TORCH.from_numpy(v.copy()) for k, v in arrays.items()}
    out = getattr(TORCH, case.op)(args.pop("x"), **args, **case.params)
    return tuple(TORCH.to_numpy(o) for o in (out if isinstance(out, tuple) else (out,)))


def reference_result(case, arrays):
    args = {k: v.copy() for k, v in arrays.items()}
    out = getattr(reference, case.op)(args.pop("x"), **args, **case.params)
    return out if isinstance(out, tuple) else (out,)


def check_against_torch(case, exact: bool):
    arrays = case.materialize()
    expected, got = torch_result(case, arrays), reference_result(case, arrays)
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert g.shape == e.shape
        if exact:
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)
        else:
            scale = max(1.0, float(np.abs(e).max(initial=0)))
            np.testing.assert_allclose(g, e, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=40)
@given(data=st.data())
def test_conv_transpose_matches_torch(rank, data):
    check_against_torch(data.draw(conv_transpose_cases(rank, F64)), exact=False)


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=40)
@given(data=st.data())
def test_max_pool_matches_torch_bit_for_bit(rank, data):
    check_against_torch(data.draw(max_pool_cases(rank, ["float64", "float32", "uint8"])), exact=True)


@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=40)
@given(data=st.data())
def test_max_unpool_matches_torch_bit_for_bit(rank, data):
    check_against_torch(data.draw(max_unpool_cases(rank, ["float64", "float32"])), exact=True)


@pytest.mark.parametrize("op", ["pixel_shuffle", "pixel_unshuffle"])
@settings(max_examples=60)
@given(data=st.data())
def test_pixel_shuffle_matches_torch_bit_for_bit(op, data):
    check_against_torch(data.draw(pixel_shuffle_cases(op, ["float32", "uint8", "float16"])), exact=True)


@pytest.mark.parametrize(
    "alias,mode",
    [
        ("upsample", "bicubic"),
        ("Upsample", "trilinear"),
        ("Upsample", "area"),
        ("upsample_nearest", "nearest"),
        ("UpsamplingNearest2d", "nearest"),
        ("upsample_bilinear", "bilinear"),
        ("UpsamplingBilinear2d", "bilinear"),
    ],
)
@settings(max_examples=25)
@given(data=st.data())
def test_aliases_match_torch(alias, mode, data):
    case = data.draw(alias_cases(alias, ops.get(alias).alias_of, mode, lambda m, aa: F64))
    check_against_torch(case, exact=mode == "nearest")


def test_max_pool_ties_take_the_first_and_nan_the_last():
    x = np.array([[[1.0, 3.0, 3.0, np.nan, 2.0, np.nan]]])
    values, indices = reference.max_pool(x, (3,), (3,))
    assert indices.tolist() == [[[1, 5]]]
    assert values[0, 0, 0] == 3.0 and np.isnan(values[0, 0, 1])


def test_max_unpool_scatters_into_zeros():
    out = reference.max_unpool(np.array([[[5.0, 7.0]]]), np.array([[[3, 0]]]), (2,))
    assert out.tolist() == [[[7.0, 0.0, 0.0, 5.0]]]


def test_conv_transpose_is_the_adjoint_of_convolution():
    """<conv_transpose(x, w), y> == <x, conv(y, w)>: the definition's meaning."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 3, 3, 2))
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    y = reference.conv_transpose(x, w, **kw)
    z = rng.standard_normal(y.shape)
    conv = torch.nn.functional.conv2d(torch.from_numpy(z), torch.from_numpy(w), **kw).numpy()
    assert np.isclose(np.vdot(y, z), np.vdot(x, conv), rtol=1e-12)


X2 = np.zeros((1, 4, 5, 5))
W2 = np.zeros((4, 2, 3, 3))
INVALID = [
    ("conv_transpose", (X2, W2), dict(output_padding=1)),  # not below stride or dilation
    ("conv_transpose", (X2, W2), dict(stride=0)),
    ("conv_transpose", (X2, W2), dict(padding=-1)),
    ("conv_transpose", (X2, W2), dict(groups=3)),
    ("conv_transpose", (X2, np.zeros((3, 2, 3, 3))), {}),  # channels differ
    ("conv_transpose", (X2, W2), dict(padding=4)),  # output too small
    ("conv_transpose", (X2, W2), dict(output_size=(20, 20))),
    ("conv_transpose", (X2, W2), dict(output_size=(7, 7, 7))),
    ("conv_transpose", (np.zeros((4, 5)), W2), {}),  # rank does not fit
    ("max_pool", (X2,), dict(kernel_size=(3, 3), padding=2)),
    ("max_pool", (X2,), dict(kernel_size=(0, 2))),
    ("max_pool", (X2,), dict(kernel_size=(2, 2), stride=0)),
    ("max_pool", (X2,), dict(kernel_size=(2, 2), dilation=0)),
    ("max_pool", (X2,), dict(kernel_size=(7, 7))),
    ("max_unpool", (X2, np.zeros((1, 4, 5, 5), dtype=np.int64)), dict(kernel_size=(2, 2), output_size=(20, 20))),
    ("max_unpool", (X2, np.zeros((1, 4, 5, 4), dtype=np.int64)), dict(kernel_size=(2, 2))),
    ("max_unpool", (X2, np.full((1, 4, 5, 5), 100, dtype=np.int64)), dict(kernel_size=(2, 2))),
    ("max_unpool", (X2, np.full((1, 4, 5, 5), -1, dtype=np.int64)), dict(kernel_size=(2, 2))),
    ("max_unpool", (X2, np.zeros((1, 4, 5, 5), dtype=np.int64)), dict(kernel_size=(2, 2), output_size=(1, 2, 3))),
    ("pixel_shuffle", (np.zeros((1, 3, 2, 2)),), dict(upscale_factor=2)),
    ("pixel_shuffle", (np.zeros((4, 2)),), dict(upscale_factor=2)),
    ("pixel_shuffle", (np.zeros((1, 4, 2, 2)),), dict(upscale_factor=0)),
    ("pixel_unshuffle", (np.zeros((1, 1, 3, 4)),), dict(downscale_factor=2)),
    ("pixel_unshuffle", (np.zeros((1, 1, 4, 4)),), dict(downscale_factor=-1)),
]


@pytest.mark.parametrize("op,arrays,kwargs", INVALID, ids=[f"{op}-{kw}" for op, _, kw in INVALID])
@pytest.mark.parametrize("backend", ["reference", "numpy"])
def test_invalid_calls_raise_torchs_exception_class(backend, op, arrays, kwargs):
    torch_args = [torch.from_numpy(a) for a in arrays]
    with pytest.raises(Exception) as torch_exc:
        getattr(TORCH, op)(*torch_args, **kwargs)
    b = load(backend)
    with pytest.raises(torch_exc.type) as ours:
        getattr(b, op)(*[b.from_numpy(a) for a in arrays], **kwargs)
    assert str(ours.value), f"{op} must say what to change"
