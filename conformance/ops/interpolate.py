"""``interpolate``: torch's facts about it, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case
from conformance.deviations import deviations_for
from conformance.ops.registry import FLOATS, KNOWN_DTYPES, DtypeRule, OpInfo, invalid_call, register
from conformance.strategies import fixed_interpolate_cases, interpolate_cases
from reference.gradients import interpolate_vjp
from reference.interpolate import ANTIALIAS_MODES, DATA_MOVEMENT_MODES, MODE_RANKS, interpolate


def interpolate_dtypes(mode: str, antialias: bool) -> tuple[str, ...]:
    """The dtypes torch 2.13 CPU's ``interpolate`` takes in ``mode``: no half
    kernels for antialias (and lanczos, always antialiased), no uint8 for the
    linear modes but bilinear, nor for area."""
    if antialias or mode == "lanczos":
        return ("float32", "float64", "uint8")
    if mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        return KNOWN_DTYPES
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


INVALID_CALLS = (
    # sizes and scales
    _call({"size": 2, "scale_factor": 2.0}, "only one", "size", "scale_factor"),
    _call({}, "either", "size", "scale_factor"),
    _call({"size": (2, 2, 2)}, "size", "spatial"),
    _call({"scale_factor": (2.0, 2.0, 2.0)}, "scale_factor", "spatial"),
    _call({"size": (2.0, 2)}, "size", "int"),
    _call({"size": 0}, "size", "greater than 0", "output"),
    _call({"size": -3}, "size", "greater than 0", "output"),
    _call({"scale_factor": 0.1}, "size", "greater than 0", "output"),
    _call({"scale_factor": -1.0}, "size", "greater than 0", "output", "scale"),
    _call({"scale_factor": float("nan")}, "int64", "scale", "finite", "overflow"),
    _call({"scale_factor": float("inf")}, "int64", "scale", "finite", "overflow"),
    _call({"size": 2, "recompute_scale_factor": True}, "recompute_scale_factor"),
    # flags that do not fit the mode
    _call({"scale_factor": 2.0, "mode": "nearest", "align_corners": True}, "align_corners"),
    _call({"scale_factor": 2.0, "mode": "area", "align_corners": False}, "align_corners"),
    _call({"scale_factor": 2.0, "mode": "nearest-exact", "align_corners": True}, "align_corners"),
    _call({"scale_factor": 2.0, "mode": "area", "antialias": True}, "anti-alias", "antialias"),
    _call({"scale_factor": 2.0, "mode": "nearest", "antialias": True}, "anti-alias", "antialias"),
    _call({"scale_factor": 2.0, "mode": "bilinear", "antialias": True}, "anti-alias", "antialias", shape=(1, 1, 4, 4, 4)),
    _call({"scale_factor": 2.0, "mode": "lanczos"}, "lanczos", "antialias"),
    _call({"scale_factor": 2.0, "mode": "lanczos", "antialias": True, "align_corners": True}, "lanczos", "align_corners"),
    # mode and rank
    _call({"scale_factor": 2.0, "mode": "bogus"}, "mode", "bogus"),
    _call({"scale_factor": 2.0, "mode": "linear"}, "linear", "3D"),
    _call({"scale_factor": 2.0, "mode": "trilinear"}, "trilinear", "5D"),
    _call({"scale_factor": 2.0, "mode": "bilinear"}, "bilinear", "4D", shape=(1, 1, 4)),
    _call({"scale_factor": 2.0, "mode": "bicubic"}, "bicubic", "4D", shape=(1, 1, 4, 4, 4)),
    _call({"scale_factor": 2.0}, "3D", "4D", "5D", "input", shape=(4, 4)),
    _call({"scale_factor": 2.0, "mode": "bilinear"}, "empty", "non-empty", "size", shape=(1, 0, 4, 4)),
    _call({"scale_factor": 2.0, "mode": "bilinear"}, "size", "greater than 0", "input", shape=(1, 1, 0, 4)),
)

INTERPOLATE = register(
    OpInfo(
        name="interpolate",
        summary="F.interpolate: every mode, size or scale_factor, align_corners, antialias; 1-D to 3-D",
        cells=tuple(MODE_RANKS),
        cell_label="modes",
        reference=interpolate,
        torch_code=_torch_code,
        strategy=interpolate_strategy,
        fixed_cases=fixed_interpolate_cases,
        dtypes=interpolate_dtypes,
        vjp=interpolate_vjp,
        exact_modes=DATA_MOVEMENT_MODES,
        invalid_calls=INVALID_CALLS,
        deviations=deviations_for("interpolate"),
    )
)
