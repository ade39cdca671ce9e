"""The tinygrad, mlx, paddle, keras and openvino adapters (backends/frameworks/),
and the gradients of the jax and tensorflow library adapters, on the real
frameworks: no mock stands in for one.

For each framework: a case it is known to reproduce torch on and a case it is
known not to (found by running the harness on it: docs/frameworks-findings.md
has the standalone repro of each divergence), judged by the harness's own
verdict (``check_case`` against torch and the reference), forward and, where
the framework differentiates, backward.  A framework that is not installed
skips with the extra that installs it (the default tox env installs none of
them: they are heavy).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backends import load
from conformance import ops
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.strategies import backward_case
from conformance.verdict import check_case

ORACLE = Oracle()


def _backend(name: str) -> Any:
    backend = load(name)
    available, why = backend.availability()
    if not available:
        pytest.skip(f"{name} backend unavailable here: {why}")
    return backend


def _resize(shape: tuple[int, ...], dtype: str = "float32", **params: Any) -> Case:
    return Case("interpolate", InputSpec(shape, dtype, seed=1), params)


def _conv(shape: tuple[int, ...], weight: tuple[int, ...], **params: Any) -> Case:
    return Case(
        "conv_transpose",
        InputSpec(shape, "float32", seed=5),
        params,
        operands=(("weight", InputSpec(weight, "float32", seed=6)),),
    )


def _pool(shape: tuple[int, ...], dtype: str = "float32", values: str = "normal", **params: Any) -> Case:
    return Case("max_pool", InputSpec(shape, dtype, values, seed=2), params)


def _grad(case: Case) -> Case:
    """The backward case of ``case`` (a seeded cotangent of the output's shape)."""
    backward = backward_case(case, ops.get(case.op).reference)
    assert backward is not None
    return backward


BILINEAR = _resize((1, 2, 5, 4), mode="bilinear", size=[9, 7])
#: An output of length 1 from a scale factor torch uses as given: torch samples at (0 + 0.5) / 0.5 - 0.5.
LENGTH_ONE = _resize((1, 1, 2, 1), mode="bilinear", scale_factor=(0.5, 2.0))
#: float64 data at a scale factor used as given: torch's coordinates are float64 there.
FLOAT64_SCALE = _resize((1, 1, 13), "float64", mode="linear", scale_factor=0.8181818181818182)
CONV = _conv((1, 2, 5, 4), (2, 3, 3, 3), stride=2, padding=1, output_padding=1)

#: (backend, case, the verdict's status): what each framework is known to do.
KNOWN = [
    # paddle: F.interpolate and the conv/pool ops follow torch on most cells, gradients too
    ("paddle", _resize((1, 2, 5, 4), mode="bicubic", size=[9, 7]), "pass"),
    ("paddle", _resize((1, 2, 9, 8), mode="bicubic", size=[4, 3], antialias=True), "pass"),
    ("paddle", _grad(BILINEAR), "pass"),
    ("paddle", _grad(CONV), "pass"),
    ("paddle", _grad(_pool((1, 1, 5, 5), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))), "pass"),
    # ... and samples input 0 for an output of length 1 (torch: the given scale's centre)
    ("paddle", LENGTH_ONE, "fail"),
    ("paddle", _grad(LENGTH_ONE), "fail"),
    # ... computes float64 data's coordinates in float32
    ("paddle", FLOAT64_SCALE, "fail"),
    # ... refuses output_padding >= stride where dilation allows it (torch: < max(stride, dilation))
    ("paddle", _conv((1, 1, 3), (1, 1, 2), dilation=2, output_padding=1), "error"),
    # tinygrad: linear and nearest at torch's sample positions, conv_transpose, max_pool with indices
    ("tinygrad", _resize((1, 2, 5, 4), mode="bilinear", size=[9, 7], align_corners=True), "pass"),
    ("tinygrad", _grad(BILINEAR), "pass"),
    ("tinygrad", CONV, "pass"),
    ("tinygrad", _grad(CONV), "pass"),
    ("tinygrad", _pool((1, 1, 5, 5), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)), "pass"),
    # ... gives NaN for an output axis of length 1 under align_corners ((n - 1) / 0), forward and backward
    ("tinygrad", _resize((1, 1, 3, 1), mode="bilinear", size=[3, 1], align_corners=True), "fail"),
    ("tinygrad", _grad(_resize((1, 1, 3, 1), mode="bilinear", size=[3, 1], align_corners=True)), "fail"),
    # ... and nearest-exact's gradient is wrong where two outputs read one input
    ("tinygrad", _grad(_resize((1, 1, 14), mode="nearest-exact", size=23)), "fail"),
    # mlx: Upsample reproduces bilinear and bicubic at sizes whose ratio is the scale
    ("mlx", BILINEAR, "pass"),
    ("mlx", _resize((1, 2, 5, 4), mode="bicubic", size=[9, 7]), "pass"),
    ("mlx", _grad(BILINEAR), "pass"),
    ("mlx", CONV, "pass"),
    ("mlx", _grad(CONV), "pass"),
    # ... its nearest upsampling rounds half-pixel centres (torch floors i * n_in / n_out)
    ("mlx", _resize((1, 1, 4, 4), mode="nearest", size=[9, 9]), "fail"),
    # ... it centres its grid when the scale's length is not whole (torch starts at the edge)
    ("mlx", _resize((1, 1, 5, 7), mode="bilinear", scale_factor=1.5), "fail"),
    # ... and crops a conv_transpose padding beyond the kernel's reach to another length
    ("mlx", _conv((1, 1, 3), (1, 1, 1), stride=2, padding=1), "fail"),
    # keras (JAX): resize at half-pixel centres reproduces bilinear and the antialiased modes
    ("keras", BILINEAR, "pass"),
    ("keras", _resize((1, 2, 9, 8), mode="bicubic", size=[4, 3], antialias=True), "pass"),
    ("keras", _grad(BILINEAR), "pass"),
    ("keras", CONV, "pass"),
    ("keras", _grad(CONV), "pass"),
    # ... its bicubic is Keys A = -0.5 (torch's plain bicubic: A = -0.75), forward and backward
    ("keras", _resize((1, 2, 5, 4), mode="bicubic", size=[9, 7]), "fail"),
    ("keras", _grad(_resize((1, 2, 5, 4), mode="bicubic", size=[9, 7])), "fail"),
    # ... its one nearest is half-pixel (torch's nearest-exact), so torch's nearest differs
    ("keras", _resize((1, 1, 8, 8), mode="nearest", size=[4, 4]), "fail"),
    # openvino: the converted module's Interpolate, deconvolution and MaxPool (with indices)
    ("openvino", BILINEAR, "pass"),
    ("openvino", CONV, "pass"),
    ("openvino", _pool((1, 1, 5, 5), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)), "pass"),
    # ... samples input 0 for an output of length 1, as Paddle does
    ("openvino", LENGTH_ONE, "fail"),
    # ... samples nearest by the sizes' ratio where torch uses the given scale (floor(1 / 1.0001) = 0)
    ("openvino", _resize((1, 1, 1, 1, 2), mode="nearest", scale_factor=[2.0, 2.0, 1.0001]), "fail"),
    # ... computes float64 in float32 (the CPU plugin has no float64 kernels)
    ("openvino", FLOAT64_SCALE, "fail"),
    # jax and tensorflow library adapters: their gradients (jax.vjp, tf.GradientTape)
    ("jax", _grad(BILINEAR), "pass"),
    ("jax", _grad(CONV), "pass"),
    ("jax", _grad(_resize((1, 1, 8, 8), mode="nearest", size=[4, 4])), "fail"),
    ("tensorflow", _grad(BILINEAR), "pass"),
    ("tensorflow", _grad(CONV), "pass"),
    ("tensorflow", _grad(_resize((1, 2, 5, 4), mode="bicubic", size=[9, 7])), "fail"),
]


@pytest.mark.parametrize("name,case,status", KNOWN, ids=lambda v: v.describe() if isinstance(v, Case) else str(v))
def test_known_verdicts(name: str, case: Case, status: str) -> None:
    result = check_case(case, _backend(name), ORACLE)
    assert result.status == status, result.message
    if status != "error":
        assert result.extra.get("call"), "the framework call used is recorded per case"


@pytest.mark.parametrize(
    "name,case,reason",
    [
        ("paddle", _resize((1, 1, 4, 4), mode="nearest-exact", size=[6, 6]), "nearest-exact"),
        ("paddle", _pool((1, 1, 6, 6), kernel_size=(2, 2), dilation=(2, 2)), "dilation"),
        ("tinygrad", _resize((1, 1, 4, 4), mode="bicubic", size=[6, 6]), "bicubic"),
        ("tinygrad", _resize((1, 1, 5, 7), mode="bilinear", scale_factor=1.5), "scale_factor"),
        ("mlx", _pool((1, 1, 4, 4), kernel_size=(2, 2)), "indices"),
        ("mlx", _resize((1, 1, 4, 4), mode="area", size=[2, 2]), "area"),
        ("keras", _resize((1, 1, 4, 4), mode="bilinear", size=[6, 6], align_corners=True), "align_corners"),
        ("keras", _conv((1, 4, 3), (4, 1, 2), groups=2), "groups"),
        ("openvino", _grad(BILINEAR), "no gradients"),
        ("tensorflow", _grad(_resize((1, 1, 4, 4), mode="area", size=[2, 2])), "no gradient"),
    ],
    ids=lambda v: v.describe() if isinstance(v, Case) else str(v),
)
def test_cases_the_framework_cannot_express_are_unsupported(name: str, case: Case, reason: str) -> None:
    result = check_case(case, _backend(name), ORACLE)
    assert result.status == "unsupported" and reason in result.message, result.message


@pytest.mark.parametrize("name", ["tinygrad", "mlx", "paddle", "keras", "openvino"])
def test_invalid_calls_raise_torchs_errors(name: str) -> None:
    backend = _backend(name)
    x = backend.from_numpy(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        backend.interpolate(x, size=2, scale_factor=2.0)
    with pytest.raises(RuntimeError, match="greater than 0"):
        backend.interpolate(x, size=0, mode="bilinear")


def test_pixel_shuffle_round_trip_conforms_everywhere_it_is_expressed() -> None:
    names = [n for n in ("tinygrad", "mlx", "paddle", "keras", "openvino") if load(n).availability()[0]]
    if not names:
        pytest.skip("no framework installed")
    for name in names:
        for op, param in (("pixel_shuffle", "upscale_factor"), ("pixel_unshuffle", "downscale_factor")):
            case = Case(op, InputSpec((2, 8, 4, 6), "float32", seed=4), {param: 2})
            assert check_case(case, load(name), ORACLE).status == "pass", (name, op)
            assert check_case(_grad(case), load(name), ORACLE).status in ("pass", "unsupported"), (name, op)


def test_unavailable_framework_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = load("paddle")
    monkeypatch.setattr(type(backend), "module", "paddle_that_is_not_installed")
    ok, why = backend.availability()
    assert not ok and "'.[paddle]'" in why
