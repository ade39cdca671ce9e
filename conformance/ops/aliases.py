"""The aliases of ``interpolate`` (``F.upsample*``, ``nn.Upsample*``): each
registered with the interpolate call it stands for (``reference.aliases``).
The harness checks that each alias equals that call, bit for bit, on the same
backend; they have no gradient checks of their own (they are interpolate)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import reference.aliases as ref
from conformance.cases import Case
from conformance.ops.interpolate import interpolate_dtypes
from conformance.ops.registry import DtypeRule, OpInfo, invalid_call, register
from conformance.strategies import alias_cases
from reference.interpolate import DATA_MOVEMENT_MODES, MODE_RANKS

#: The modes ``F.upsample`` and ``nn.Upsample`` take (no antialias, so no lanczos).
UPSAMPLE_MODES = tuple(m for m in MODE_RANKS if m != "lanczos")


def _strategy(name: str, args: Callable[..., dict[str, Any]], fixed_mode: str | None) -> Any:
    def strategy(cell: str, dtypes_for: DtypeRule) -> Any:
        mode = fixed_mode or cell
        if not dtypes_for(mode, False):
            return None
        return alias_cases(name, args, mode, dtypes_for)

    return strategy


def _function_code(name: str) -> Callable[[Case], list[str]]:
    return lambda case: [f"out = F.{name}(t['x'], **kwargs)"]


def _module_code(name: str) -> Callable[[Case], list[str]]:
    return lambda case: [f"out = torch.nn.{name}(**kwargs)(t['x'])"]


def _alias(
    name: str,
    args: Callable[..., dict[str, Any]],
    torch_code: Callable[[Case], list[str]],
    summary: str,
    invalid: tuple[Case, ...] = (),
    torch_opinfos: tuple[str, ...] = (),
) -> OpInfo:
    fixed_mode = None if "mode" in inspect.signature(args).parameters else args()["mode"]
    return register(
        OpInfo(
            name=name,
            summary=summary,
            cells=("all",) if fixed_mode else UPSAMPLE_MODES,
            cell_label="cells" if fixed_mode else "modes",
            reference=getattr(ref, name),
            torch_code=torch_code,
            strategy=_strategy(name, args, fixed_mode),
            dtypes=interpolate_dtypes,
            exact_modes=DATA_MOVEMENT_MODES,
            alias_of=args,
            invalid_calls=invalid,
            torch_opinfos=torch_opinfos,
        )
    )


UPSAMPLE = _alias(
    "upsample",
    ref.upsample_args,
    _function_code("upsample"),
    "F.upsample (deprecated): interpolate",
    (
        invalid_call("upsample", (1, 1, 4, 4), {}, "either size or scale_factor should be defined"),
        invalid_call(
            "upsample", (1, 1, 4, 4), {"scale_factor": 2.0, "mode": "bogus"}, "Only 3D, 4D and 5D input", "(got bogus)"
        ),
        invalid_call(
            "upsample",
            (1, 1, 4, 4),
            {"scale_factor": 2.0, "align_corners": True},
            "align_corners option can only be set with the interpolating modes",
        ),
    ),
)
UPSAMPLE_NEAREST = _alias(
    "upsample_nearest",
    ref.nearest_args,
    _function_code("upsample_nearest"),
    "F.upsample_nearest (deprecated): interpolate, nearest",
    (
        invalid_call(
            "upsample_nearest",
            (1, 1, 4, 4),
            {"size": 2, "scale_factor": 2.0},
            "only one of size or scale_factor should be defined",
        ),
        invalid_call("upsample_nearest", (4, 4), {"scale_factor": 2.0}, "Only 3D, 4D and 5D input", "(got 2D)"),
    ),
    torch_opinfos=("nn.functional.upsample_nearest",),
)
UPSAMPLE_BILINEAR = _alias(
    "upsample_bilinear",
    ref.bilinear_args,
    _function_code("upsample_bilinear"),
    "F.upsample_bilinear (deprecated): interpolate, bilinear, align_corners=True",
    (
        invalid_call(
            "upsample_bilinear",
            (1, 1, 4, 4, 4),
            {"scale_factor": 2.0},
            "Got 5D input, but bilinear mode needs 4D input",
        ),
        invalid_call(
            "upsample_bilinear",
            (1, 1, 4, 4),
            {"size": 2, "scale_factor": 2.0},
            "only one of size or scale_factor should be defined",
        ),
    ),
    torch_opinfos=("nn.functional.upsample_bilinear",),
)
MODULE_UPSAMPLE = _alias(
    "Upsample",
    ref.module_upsample_args,
    _module_code("Upsample"),
    "nn.Upsample(size, scale_factor, mode, align_corners, recompute_scale_factor)",
    (
        invalid_call(
            "Upsample",
            (1, 1, 4, 4),
            {"scale_factor": 2.0, "mode": "nearest", "align_corners": True},
            "align_corners option can only be set with the interpolating modes",
        ),
        invalid_call(
            "Upsample", (1, 1, 4, 4), {"scale_factor": 2.0, "mode": "lanczos"}, "Lanczos mode requires antialias=True"
        ),
        invalid_call(
            "Upsample",
            (1, 1, 4, 4),
            {"size": 2, "recompute_scale_factor": True},
            "recompute_scale_factor is not meaningful with an explicit size",
        ),
    ),
)
UPSAMPLING_NEAREST_2D = _alias(
    "UpsamplingNearest2d",
    ref.nearest_args,
    _module_code("UpsamplingNearest2d"),
    "nn.UpsamplingNearest2d: nearest",
    (
        invalid_call("UpsamplingNearest2d", (1, 1, 4, 4), {}, "either size or scale_factor should be defined"),
        invalid_call(
            "UpsamplingNearest2d", (1, 1, 4, 4), {"size": 0}, "Input and output sizes should be greater than 0"
        ),
    ),
)
UPSAMPLING_BILINEAR_2D = _alias(
    "UpsamplingBilinear2d",
    ref.bilinear_args,
    _module_code("UpsamplingBilinear2d"),
    "nn.UpsamplingBilinear2d: bilinear, align_corners=True",
    (
        invalid_call(
            "UpsamplingBilinear2d", (1, 1, 4), {"scale_factor": 2.0}, "Got 3D input, but bilinear mode needs 4D input"
        ),
        invalid_call(
            "UpsamplingBilinear2d",
            (1, 0, 4, 4),
            {"scale_factor": 2.0},
            "Non-empty 4D data tensor expected but got a tensor with sizes",
        ),
    ),
)
