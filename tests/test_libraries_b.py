"""The jax, tensorflow, onnxruntime and onnx-reference adapters, on their real libraries.

For each adapter: cases where the library is known to reproduce torch and
cases where it is known not to (found by running the harness on it), judged
by the harness's own verdict (``check_case``), so that these tests and the
report's library matrix say the same thing.  No mock stands in for a library:
without it installed an adapter's tests skip and say which extra installs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backends import Unsupported, load
from conformance.cases import Case, InputSpec, PooledIndices
from conformance.execute import Oracle
from conformance.verdict import check_case

ORACLE = Oracle()
NAMES = ("jax", "tensorflow", "onnxruntime", "onnx-reference")


def _backend(name: str) -> Any:
    backend = load(name)
    available, why = backend.availability()
    if not available:
        pytest.skip(f"{name} backend unavailable here: {why}")
    return backend


def _interpolate(shape: tuple[int, ...], dtype: str = "float32", **params: Any) -> Case:
    return Case("interpolate", InputSpec(shape, dtype, seed=1), params)


def _unpool(shape: tuple[int, ...], kernel: int, output_size: list[int]) -> Case:
    source = InputSpec(shape, "float32", seed=2)
    pooled = tuple(n // kernel for n in shape[2:])
    return Case(
        "max_unpool",
        InputSpec((*shape[:2], *pooled), "float32", seed=3),
        {"kernel_size": kernel, "output_size": output_size},
        operands=(("indices", PooledIndices(source, (("kernel_size", kernel),))),),
    )


#: conv_transpose1d with groups=2: ONNX's reference evaluator fails on groups, ORT and jax take them
GROUPED = Case(
    "conv_transpose",
    InputSpec((1, 4, 3), "float32", seed=7),
    {"groups": 2, "stride": 2},
    operands=(("weight", InputSpec((4, 1, 2), "float32", seed=8)),),
)


def _verdict(name: str, case: Case) -> str:
    result = check_case(case, _backend(name), ORACLE)
    return f"{result.status}: {result.message}"


#: (backend, case, the verdict's status): what each library is known to do.
KNOWN = [
    # jax: scale_and_translate placed at torch's sample positions reproduces
    # the linear and (cubic-pytorch) cubic modes, and the antialiased ones
    ("jax", _interpolate((1, 2, 5, 4), mode="bicubic", size=[9, 7]), "pass"),
    ("jax", _interpolate((1, 2, 9, 8), mode="bilinear", size=[4, 3], antialias=True), "pass"),
    ("jax", _interpolate((1, 2, 6, 5), mode="bilinear", size=[11, 9], align_corners=True), "pass"),
    # jax's nearest is half-pixel (torch's nearest-exact), so torch's nearest differs on a downscale
    ("jax", _interpolate((1, 1, 8, 8), mode="nearest", size=[4, 4]), "fail"),
    # jax's area weighs fractional overlaps; torch's adaptive pooling whole pixels
    ("jax", _interpolate((1, 1, 7), mode="area", size=3), "fail"),
    # torch centres an antialiased, aligned-corners output at s * (i + 0.5): jax drops samples past the edge
    ("jax", _interpolate((1, 1, 7, 5), mode="bilinear", size=[3, 3], align_corners=True, antialias=True), "fail"),
    # tensorflow: the compat.v1 kernels with align_corners, tf.image.resize's antialiasing
    ("tensorflow", _interpolate((1, 2, 5, 4), mode="bilinear", size=[9, 7], align_corners=True), "pass"),
    ("tensorflow", _interpolate((1, 2, 9, 8), mode="bicubic", size=[4, 3], antialias=True), "pass"),
    ("tensorflow", _interpolate((1, 2, 5, 4), mode="nearest", size=[9, 7]), "pass"),
    # tf.image.resize's bicubic is Keys A = -0.5 with half-pixel centres; torch's A = -0.75
    ("tensorflow", _interpolate((1, 2, 5, 4), mode="bicubic", size=[9, 7]), "fail"),
    # TensorFlow computes in float32: float64 comes back with float32's precision
    ("tensorflow", _interpolate((1, 2, 5, 4), "float64", mode="bilinear", size=[9, 7]), "fail"),
    # onnxruntime: Resize's coordinate modes express torch's; ORT reads scales as torch does
    ("onnxruntime", _interpolate((1, 2, 5, 4), mode="bicubic", size=[9, 7], align_corners=True), "pass"),
    ("onnxruntime", _interpolate((1, 2, 9, 8), mode="bilinear", size=[4, 3], antialias=True), "pass"),
    ("onnxruntime", _interpolate((1, 2, 4, 5), mode="bilinear", scale_factor=[1.5, 2.5], align_corners=True), "pass"),
    ("onnxruntime", _unpool((1, 2, 4, 4), 2, [5, 5]), "pass"),
    # ONNX's align_corners mode is not torch's antialiased, aligned-corners convention
    (
        "onnxruntime",
        _interpolate((1, 1, 7, 5), mode="bilinear", size=[3, 3], align_corners=True, antialias=True),
        "fail",
    ),
    # the reference evaluator: the same models; it agrees where ORT does on sizes
    ("onnx-reference", _interpolate((1, 2, 5, 4), mode="bicubic", size=[9, 7], align_corners=True), "pass"),
    ("onnx-reference", _interpolate((1, 2, 9, 8), mode="bilinear", size=[4, 3], antialias=True), "pass"),
    # ... and departs from it on align_corners with scales (its output positions follow the
    # scale, not the sizes), and on MaxUnpool with an output_shape larger than the default
    (
        "onnx-reference",
        _interpolate((1, 2, 4, 5), mode="bilinear", scale_factor=[1.5, 2.5], align_corners=True),
        "fail",
    ),
    ("onnx-reference", _unpool((1, 2, 4, 4), 2, [5, 5]), "error"),
    ("onnxruntime", GROUPED, "pass"),
    ("jax", GROUPED, "pass"),
    ("onnx-reference", GROUPED, "error"),
    ("tensorflow", GROUPED, "unsupported"),
]


@pytest.mark.parametrize("name,case,status", KNOWN, ids=lambda v: v.describe() if isinstance(v, Case) else str(v))
def test_known_verdicts(name: str, case: Case, status: str) -> None:
    assert _verdict(name, case).startswith(status)


@pytest.mark.parametrize("name", NAMES)
def test_pixel_shuffle_round_trip_conforms(name: str) -> None:
    # CRD (torch's order) by reshapes, by depth_to_space with the channels reordered, by DepthToSpace(CRD)
    for op, param in (("pixel_shuffle", "upscale_factor"), ("pixel_unshuffle", "downscale_factor")):
        case = Case(op, InputSpec((2, 8, 4, 6), "float32", seed=4), {param: 2})
        assert _verdict(name, case).startswith("pass")


@pytest.mark.parametrize("name", NAMES)
def test_conv_transpose_conforms_where_the_library_has_it(name: str) -> None:
    case = Case(
        "conv_transpose",
        InputSpec((1, 2, 5, 4), "float32", seed=5),
        {"stride": 2, "padding": 1, "output_padding": 1},
        operands=(("weight", InputSpec((2, 3, 3, 3), "float32", seed=6)),),
    )
    assert _verdict(name, case).startswith("pass")


@pytest.mark.parametrize(
    "name,op,params,reason",
    [
        ("tensorflow", "interpolate", {"mode": "trilinear", "size": 4}, "3-D"),
        ("tensorflow", "pixel_shuffle", {"upscale_factor": 1}, "block size"),
        ("onnxruntime", "interpolate", {"mode": "area", "size": 2}, "area"),
        ("onnx-reference", "interpolate", {"mode": "lanczos", "size": [2, 2], "antialias": True}, "lanczos"),
    ],
)
def test_cases_no_library_call_expresses_are_unsupported(name: str, op: str, params: dict, reason: str) -> None:
    backend = _backend(name)
    shape = (1, 1, 3, 3, 3) if params.get("mode") == "trilinear" else (1, 1, 4, 4)
    x = backend.from_numpy(np.ones(shape, np.float32))
    with pytest.raises(Unsupported, match=reason):
        getattr(backend, op)(x, **params)


@pytest.mark.parametrize("name", NAMES)
def test_invalid_calls_raise_torchs_errors(name: str) -> None:
    backend = _backend(name)
    x = backend.from_numpy(np.ones((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="align_corners"):
        backend.interpolate(x, size=2, mode="nearest", align_corners=True)
    with pytest.raises(RuntimeError, match="divisible"):
        backend.pixel_shuffle(x, 2)


@pytest.mark.parametrize("name", NAMES)
def test_call_used_names_the_library_call(name: str) -> None:
    backend = load(name)
    call = backend.call_used("interpolate", {"mode": "bilinear", "size": 4})
    assert call and "(" in call
    assert backend.call_used("pixel_shuffle", {"upscale_factor": 2})
