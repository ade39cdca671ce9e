"""``interpolate``: torch's facts about it, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case
from conformance.deviations import deviations_for
from conformance.ops.registry import FLOATS, DtypeRule, OpInfo, invalid_call, register
from conformance.strategies import edge_interpolate_cases, fixed_interpolate_cases, interpolate_cases
from reference.gradients import interpolate_vjp
from reference.interpolate import ANTIALIAS_MODES, DATA_MOVEMENT_MODES, MODE_RANKS, interpolate


def interpolate_dtypes(mode: str, antialias: bool) -> tuple[str, ...]:
    """The dtypes torch 2.13 CPU's ``interpolate`` takes in ``mode``, forward
    and backward (measured): no float16 or bfloat16 kernels for antialias (and
    lanczos, always antialiased), no uint8 for the linear modes but bilinear,
    nor for area."""
    if antialias or mode == "lanczos":
        return ("float32", "float64", "uint8")
    if mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        return (*FLOATS, "uint8")
    return FLOATS


def interpolate_strategy(mode: str, dtypes_for: DtypeRule) -> Any:
    flags = [False, True] if mode in ANTIALIAS_MODES else [False]
    if not any(dtypes_for(mode, antialias) for antialias in flags):
        return None
    return interpolate_cases(mode, dtypes_for)


def _torch_code(case: Case) -> list[str]:
    return ["out = F.interpolate(t['x'], **kwargs)"]


def _call(params: dict[str, Any], *words: str, shape: tuple[int, ...] = (1, 1, 4, 4)) -> Case:
    return invalid_call("interpolate", shape, params, *words)


#: Each entry's words are phrases of torch's own message for that call.
ONLY_ONE = "only one of size or scale_factor should be defined"
SIZES_POSITIVE = "Input and output sizes should be greater than 0"
NON_EMPTY = "data tensor expected but got a tensor with sizes"
OVERFLOW = "value cannot be converted to type int64_t without overflow"
ALIGN = "align_corners option can only be set with the interpolating modes"
ANTIALIAS = "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes"
RANKS = "Only 3D, 4D and 5D input Tensors supported"
BAD_ARGUMENTS = "received an invalid combination of arguments"
AREA_NEGATIVE = "elements of output_size must be greater than or equal to 0"
AREA_EMPTY = "Expected input to have non-zero size for non-batch dimensions"

INVALID_CALLS = (
    # sizes and scales
    _call({"size": 2, "scale_factor": 2.0}, ONLY_ONE),
    _call({}, "either size or scale_factor should be defined"),
    _call({"size": (2, 2, 2)}, "Input and output must have the same number of spatial dimensions"),
    _call({"scale_factor": (2.0, 2.0, 2.0)}, "Input and scale_factor must have the same number of spatial dimensions"),
    _call({"size": (2.0, 2)}, "expected size to be one of int or Tuple[int]"),
    _call({"size": 2.0}, BAD_ARGUMENTS),
    _call({"scale_factor": "2"}, BAD_ARGUMENTS),
    _call({"size": 0}, SIZES_POSITIVE),
    _call({"size": -3}, SIZES_POSITIVE),
    _call({"scale_factor": 0.1}, SIZES_POSITIVE),
    _call({"scale_factor": -1.0}, SIZES_POSITIVE),
    _call({"scale_factor": float("nan")}, OVERFLOW),
    _call({"scale_factor": float("inf")}, OVERFLOW),
    _call({"scale_factor": (2.0, float("nan"))}, OVERFLOW),
    _call(
        {"size": 2, "recompute_scale_factor": True}, "recompute_scale_factor is not meaningful with an explicit size"
    ),
    # flags that do not fit the mode
    _call({"scale_factor": 2.0, "mode": "nearest", "align_corners": True}, ALIGN),
    _call({"scale_factor": 2.0, "mode": "area", "align_corners": False}, ALIGN),
    _call({"scale_factor": 2.0, "mode": "nearest-exact", "align_corners": True}, ALIGN),
    _call({"scale_factor": 2.0, "mode": "bilinear", "align_corners": 1}, BAD_ARGUMENTS),
    _call({"scale_factor": 2.0, "mode": "area", "antialias": True}, ANTIALIAS),
    _call({"scale_factor": 2.0, "mode": "nearest", "antialias": True}, ANTIALIAS),
    _call({"scale_factor": 2.0, "mode": "bilinear", "antialias": True}, ANTIALIAS, shape=(1, 1, 4, 4, 4)),
    _call({"scale_factor": 2.0, "mode": "bicubic", "antialias": True}, ANTIALIAS, shape=(1, 1, 4)),
    _call({"scale_factor": 2.0, "mode": "lanczos"}, "Lanczos mode requires antialias=True"),
    _call(
        {"scale_factor": 2.0, "mode": "lanczos", "antialias": True, "align_corners": True},
        "Lanczos mode does not support align_corners=True",
    ),
    # mode and rank
    _call({"scale_factor": 2.0, "mode": "bogus"}, RANKS, "(got bogus)"),
    _call({"scale_factor": 2.0, "mode": "linear"}, "Got 4D input, but linear mode needs 3D input"),
    _call({"scale_factor": 2.0, "mode": "trilinear"}, "Got 4D input, but trilinear mode needs 5D input"),
    _call({"scale_factor": 2.0, "mode": "bilinear"}, "Got 3D input, but bilinear mode needs 4D input", shape=(1, 1, 4)),
    _call({"scale_factor": 2.0, "mode": "bicubic"}, RANKS, "(got 5D)", shape=(1, 1, 4, 4, 4)),
    _call({"scale_factor": 2.0}, RANKS, "(got 2D)", shape=(4, 4)),
    _call({"scale_factor": 2.0}, RANKS, "(got 1D)", shape=(4,)),
    _call({"scale_factor": 2.0, "mode": "area"}, RANKS, "(got 6D)", shape=(1, 1, 2, 2, 2, 2)),
    # zero-size dimensions: channels, spatial (area: adaptive average pooling's own rules)
    _call({"scale_factor": 2.0, "mode": "bilinear"}, NON_EMPTY, shape=(1, 0, 4, 4)),
    _call({"scale_factor": 2.0}, NON_EMPTY, shape=(1, 0, 4)),
    _call({"scale_factor": 2.0, "mode": "trilinear"}, NON_EMPTY, shape=(1, 0, 2, 2, 2)),
    _call({"scale_factor": 0.5, "mode": "bicubic", "antialias": True}, NON_EMPTY, shape=(1, 0, 4, 4)),
    _call({"scale_factor": 2.0, "mode": "bilinear"}, SIZES_POSITIVE, shape=(1, 1, 0, 4)),
    _call({"scale_factor": 2.0, "mode": "linear"}, SIZES_POSITIVE, shape=(1, 1, 0)),
    _call({"scale_factor": 2.0, "mode": "nearest-exact"}, SIZES_POSITIVE, shape=(1, 1, 4, 4, 0)),
    _call({"scale_factor": 2.0, "mode": "area"}, AREA_EMPTY, shape=(1, 1, 0, 4)),
    _call({"scale_factor": 2.0, "mode": "area"}, AREA_EMPTY, shape=(1, 1, 0)),
    _call({"scale_factor": 2.0, "mode": "area"}, AREA_EMPTY, shape=(1, 0, 2, 2, 2)),
    _call({"size": -1, "mode": "area"}, AREA_NEGATIVE),
    _call({"scale_factor": -1.0, "mode": "area"}, AREA_NEGATIVE, shape=(1, 1, 2, 2, 2)),
)

INTERPOLATE = register(
    OpInfo(
        name="interpolate",
        summary="F.interpolate: every mode, size or scale_factor, align_corners, antialias; 1-D to 3-D",
        cells=tuple(MODE_RANKS),
        cell_label="modes",
        antialias_cells=ANTIALIAS_MODES - {"lanczos"},  # lanczos is always antialiased
        reference=interpolate,
        torch_code=_torch_code,
        strategy=interpolate_strategy,
        fixed_cases=fixed_interpolate_cases,
        edge_cases=edge_interpolate_cases,
        dtypes=interpolate_dtypes,
        vjp=interpolate_vjp,
        exact_modes=DATA_MOVEMENT_MODES,
        invalid_calls=INVALID_CALLS,
        # one OpInfo per mode (variant_test_name), all of them named so
        torch_opinfos=("nn.functional.interpolate",),
        deviations=deviations_for("interpolate"),
    )
)
