"""``pixel_shuffle`` / ``pixel_unshuffle``: torch's facts about them, registered."""

from __future__ import annotations

from typing import Any

from conformance.cases import Case
from conformance.deviations import deviations_for
from conformance.ops.conv_transpose import large_cases
from conformance.ops.registry import KNOWN_DTYPES, DtypeRule, OpInfo, invalid_call, register
from conformance.strategies import pixel_shuffle_cases
from reference.gradients import pixel_shuffle_vjp, pixel_unshuffle_vjp
from reference.pixel_shuffle import pixel_shuffle, pixel_unshuffle


def _strategy(op: str) -> Any:
    def strategy(cell: str, dtypes_for: DtypeRule) -> Any:
        dtypes = list(dtypes_for("", False))
        return pixel_shuffle_cases(op, dtypes) if dtypes else None

    return strategy


def _torch_code(op: str) -> Any:
    def code(case: Case) -> list[str]:
        return [f"out = F.{op}(t['x'], **kwargs)"]

    return code


def _call(op: str, x: tuple[int, ...], factor: Any, *words: str) -> Case:
    """An invalid call; ``words`` are phrases of torch's own message for it."""
    name = "upscale_factor" if op == "pixel_shuffle" else "downscale_factor"
    return invalid_call(op, x, {name: factor}, *words)


PIXEL_SHUFFLE = register(
    OpInfo(
        name="pixel_shuffle",
        summary="F.pixel_shuffle: (*, C*r*r, H, W) -> (*, C, H*r, W*r)",
        cells=("all",),
        reference=pixel_shuffle,
        torch_code=_torch_code("pixel_shuffle"),
        strategy=_strategy("pixel_shuffle"),
        fixed_cases=large_cases("pixel_shuffle"),
        # every dtype: torch's kernel moves bytes (measured on torch 2.13 CPU)
        dtypes=lambda mode, antialias: KNOWN_DTYPES,
        vjp=pixel_shuffle_vjp,
        exact=True,
        exact_backward=True,
        invalid_calls=(
            _call("pixel_shuffle", (1, 3, 2, 2), 2, "to be divisible by the square of upscale_factor"),
            _call("pixel_shuffle", (4, 2), 2, "expects input to have at least 3 dimensions"),
            _call("pixel_shuffle", (4,), 2, "expects input to have at least 3 dimensions"),
            _call("pixel_shuffle", (1, 4, 2, 2), 0, "expects a positive upscale_factor"),
            _call("pixel_shuffle", (1, 4, 2, 2), -2, "expects a positive upscale_factor"),
            _call("pixel_shuffle", (1, 4, 2, 2), 2.0, "must be int, not float"),
        ),
        torch_opinfos=("nn.functional.pixel_shuffle",),
        deviations=deviations_for("pixel_shuffle"),
    )
)

PIXEL_UNSHUFFLE = register(
    OpInfo(
        name="pixel_unshuffle",
        summary="F.pixel_unshuffle: (*, C, H*r, W*r) -> (*, C*r*r, H, W)",
        cells=("all",),
        reference=pixel_unshuffle,
        torch_code=_torch_code("pixel_unshuffle"),
        strategy=_strategy("pixel_unshuffle"),
        fixed_cases=large_cases("pixel_unshuffle"),
        # every dtype: torch's kernel moves bytes (measured on torch 2.13 CPU)
        dtypes=lambda mode, antialias: KNOWN_DTYPES,
        vjp=pixel_unshuffle_vjp,
        exact=True,
        exact_backward=True,
        invalid_calls=(
            _call("pixel_unshuffle", (1, 1, 3, 4), 2, "expects height to be divisible by downscale_factor"),
            _call("pixel_unshuffle", (1, 1, 4, 3), 2, "expects width to be divisible by downscale_factor"),
            _call("pixel_unshuffle", (1, 1, 4, 4), -1, "expects a positive downscale_factor"),
            _call("pixel_unshuffle", (1, 1, 4, 4), 0, "expects a positive downscale_factor"),
            _call("pixel_unshuffle", (4, 4), 2, "expects input to have at least 3 dimensions"),
            _call("pixel_unshuffle", (1, 1, 4, 4), 2.0, "must be int, not float"),
        ),
        torch_opinfos=("nn.functional.pixel_unshuffle",),
        deviations=deviations_for("pixel_unshuffle"),
    )
)
