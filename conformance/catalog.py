"""The catalog of invalid calls: errors are part of the contract.

Each entry is a call torch refuses.  A backend conforms on it when it raises
the exception class torch raises, with a message that names the problem: it
must mention one of the entry's words (case-insensitively).  The entries are
checked against torch every run, so an entry torch stops refusing shows up as
a failure of the catalog itself rather than passing silently.
"""

from __future__ import annotations

from typing import Any

from conformance.cases import Case, InputSpec, Operand, UniqueIndices

CELL = "invalid-calls"


def _x(*shape: int, dtype: str = "float32") -> InputSpec:
    return InputSpec(tuple(shape), dtype)


def _case(
    op: str,
    x: InputSpec,
    params: dict[str, Any],
    words: tuple[str, ...],
    operands: tuple[tuple[str, Operand], ...] = (),
) -> Case:
    return Case(op, x, params, operands, words, CELL)


def _interpolate(params: dict[str, Any], *words: str, shape: tuple[int, ...] = (1, 1, 4, 4)) -> Case:
    return _case("interpolate", _x(*shape), params, words)


def _conv(
    params: dict[str, Any],
    *words: str,
    x: tuple[int, ...] = (1, 4, 5, 5),
    weight: tuple[int, ...] = (4, 2, 3, 3),
    bias: int | None = None,
) -> Case:
    operands: list[tuple[str, Operand]] = [("weight", InputSpec(weight, "float32", seed=1))]
    if bias is not None:
        operands.append(("bias", InputSpec((bias,), "float32", seed=2)))
    return _case("conv_transpose", _x(*x), params, words, tuple(operands))


def _unpool(
    params: dict[str, Any], *words: str, indices: Operand | None = None, x: tuple[int, ...] = (1, 2, 3, 3)
) -> Case:
    indices = indices or UniqueIndices(x, 36, 2)
    return _case("max_unpool", _x(*x), params, words, (("indices", indices),))


#: Every entry: a call torch refuses, and words its error message names.
INVALID_CALLS: tuple[Case, ...] = (
    # interpolate: sizes and scales
    _interpolate({"size": 2, "scale_factor": 2.0}, "only one", "size", "scale_factor"),
    _interpolate({}, "either", "size", "scale_factor"),
    _interpolate({"size": (2, 2, 2)}, "size", "spatial"),
    _interpolate({"scale_factor": (2.0, 2.0, 2.0)}, "scale_factor", "spatial"),
    _interpolate({"size": (2.0, 2)}, "size", "int"),
    _interpolate({"size": 0}, "size", "greater than 0", "output"),
    _interpolate({"size": -3}, "size", "greater than 0", "output"),
    _interpolate({"scale_factor": 0.1}, "size", "greater than 0", "output"),
    _interpolate({"scale_factor": -1.0}, "size", "greater than 0", "output", "scale"),
    _interpolate({"scale_factor": float("nan")}, "int64", "scale", "finite", "overflow"),
    _interpolate({"scale_factor": float("inf")}, "int64", "scale", "finite", "overflow"),
    _interpolate({"size": 2, "recompute_scale_factor": True}, "recompute_scale_factor"),
    # interpolate: flags that do not fit the mode
    _interpolate({"scale_factor": 2.0, "mode": "nearest", "align_corners": True}, "align_corners"),
    _interpolate({"scale_factor": 2.0, "mode": "area", "align_corners": False}, "align_corners"),
    _interpolate({"scale_factor": 2.0, "mode": "nearest-exact", "align_corners": True}, "align_corners"),
    _interpolate({"scale_factor": 2.0, "mode": "area", "antialias": True}, "anti-alias", "antialias"),
    _interpolate({"scale_factor": 2.0, "mode": "nearest", "antialias": True}, "anti-alias", "antialias"),
    _interpolate(
        {"scale_factor": 2.0, "mode": "bilinear", "antialias": True}, "anti-alias", "antialias", shape=(1, 1, 4, 4, 4)
    ),
    _interpolate({"scale_factor": 2.0, "mode": "lanczos"}, "lanczos", "antialias"),
    _interpolate(
        {"scale_factor": 2.0, "mode": "lanczos", "antialias": True, "align_corners": True}, "lanczos", "align_corners"
    ),
    # interpolate: mode and rank
    _interpolate({"scale_factor": 2.0, "mode": "bogus"}, "mode", "bogus"),
    _interpolate({"scale_factor": 2.0, "mode": "linear"}, "linear", "3D"),
    _interpolate({"scale_factor": 2.0, "mode": "trilinear"}, "trilinear", "5D"),
    _interpolate({"scale_factor": 2.0, "mode": "bilinear"}, "bilinear", "4D", shape=(1, 1, 4)),
    _interpolate({"scale_factor": 2.0, "mode": "bicubic"}, "bicubic", "4D", shape=(1, 1, 4, 4, 4)),
    _interpolate({"scale_factor": 2.0}, "3D", "4D", "5D", "input", shape=(4, 4)),
    _interpolate({"scale_factor": 2.0, "mode": "bilinear"}, "empty", "non-empty", "size", shape=(1, 0, 4, 4)),
    _interpolate({"scale_factor": 2.0, "mode": "bilinear"}, "size", "greater than 0", "input", shape=(1, 1, 0, 4)),
    # conv_transpose
    _conv({"stride": 2, "output_padding": 2}, "output padding", "output_padding"),
    _conv({"output_padding": 1}, "output padding", "output_padding"),
    _conv({"stride": 0}, "stride"),
    _conv({"padding": -1}, "padding"),
    _conv({"dilation": 0}, "dilation"),
    _conv({"groups": 3}, "groups", "divisible", "channels"),
    _conv({}, "channels", weight=(3, 2, 3, 3)),
    _conv({"padding": 4}, "output size", "too small"),
    _conv({"stride": 2, "output_size": (20, 20)}, "output size", "output_size"),
    _conv({"output_size": (7, 7, 7)}, "output_size", "elements"),
    _conv({}, "bias", bias=5),
    _conv({}, "input", "dimensions", "3D", "4D", x=(4, 5)),
    # max_pool
    _case("max_pool", _x(1, 2, 5, 5), {"kernel_size": (3, 3), "padding": 2}, ("pad", "half")),
    # stride defaults to the kernel, so torch names the stride here
    _case("max_pool", _x(1, 2, 5, 5), {"kernel_size": (0, 2)}, ("kernel", "stride")),
    _case("max_pool", _x(1, 2, 5, 5), {"kernel_size": (2, 2), "stride": (0, 1)}, ("stride",)),
    _case("max_pool", _x(1, 2, 5, 5), {"kernel_size": (2, 2), "dilation": (0, 1)}, ("dilation",)),
    _case("max_pool", _x(1, 2, 5, 5), {"kernel_size": (7, 7)}, ("output size", "too small", "size")),
    # max_unpool
    _unpool({"kernel_size": (2, 2), "output_size": (20, 20)}, "output_size"),
    _unpool({"kernel_size": (2, 2), "output_size": (1, 2, 3)}, "output_size", "elements"),
    _unpool({"kernel_size": (2, 2)}, "indices", "shape", indices=UniqueIndices((1, 2, 3, 2), 36, 2)),
    _unpool({"kernel_size": (2, 2)}, "invalid max index", "index", indices=UniqueIndices((1, 2, 3, 3), 1000, 2)),
    # pixel shuffle
    _case("pixel_shuffle", _x(1, 3, 2, 2), {"upscale_factor": 2}, ("divisible", "upscale_factor")),
    _case("pixel_shuffle", _x(4, 2), {"upscale_factor": 2}, ("3 dimensions", "dimension")),
    _case("pixel_shuffle", _x(1, 4, 2, 2), {"upscale_factor": 0}, ("positive", "upscale_factor")),
    _case("pixel_unshuffle", _x(1, 1, 3, 4), {"downscale_factor": 2}, ("divisible", "downscale_factor")),
    _case("pixel_unshuffle", _x(1, 1, 4, 4), {"downscale_factor": -1}, ("positive", "downscale_factor")),
    _case("pixel_unshuffle", _x(4, 4), {"downscale_factor": 2}, ("3 dimensions", "dimension")),
    # aliases
    _case("upsample_nearest", _x(1, 1, 4, 4), {"size": 2, "scale_factor": 2.0}, ("only one", "size")),
    _case("UpsamplingBilinear2d", _x(1, 1, 4), {"scale_factor": 2.0}, ("bilinear", "4D")),
    _case(
        "Upsample", _x(1, 1, 4, 4), {"scale_factor": 2.0, "mode": "nearest", "align_corners": True}, ("align_corners",)
    ),
)


def invalid_calls(ops: list[str] | None = None) -> list[Case]:
    """The catalog's entries for ``ops`` (all when ``None``)."""
    return [c for c in INVALID_CALLS if ops is None or c.op in ops]
