"""Which dtypes torch 2.13's CPU kernels take, per op (and mode).

The NumPy backend and the torch oracle claim exactly these, so that every
drawn case has an oracle; ``tests/test_backends.py`` checks the table against
the torch that is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLOATS = ("float16", "float32", "float64")
ALL = FLOATS + ("uint8",)

#: The mode each alias implies (``None``: the call's own ``mode``).
ALIAS_MODES: dict[str, str | None] = {
    "upsample": None,
    "Upsample": None,
    "upsample_nearest": "nearest",
    "UpsamplingNearest2d": "nearest",
    "upsample_bilinear": "bilinear",
    "UpsamplingBilinear2d": "bilinear",
}

OP_DTYPES: dict[str, tuple[str, ...]] = {
    "conv_transpose": FLOATS,
    "max_pool": ALL,
    "max_unpool": FLOATS,
    "pixel_shuffle": ALL,
    "pixel_unshuffle": ALL,
}


def interpolate_dtypes(mode: str, antialias: bool) -> tuple[str, ...]:
    """The dtypes torch CPU's ``interpolate`` takes in ``mode``."""
    if antialias or mode == "lanczos":
        return ("float32", "float64", "uint8")  # no half kernels for antialias
    if mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        return ALL
    return FLOATS


#: Ops with gradients (``op:backward`` in ``unsupported_dtype``): the aliases
#: are interpolate calls, checked forward only.
BACKWARD_OPS = ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")


def unsupported_dtype(op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
    """``None`` when torch CPU runs ``op`` on ``dtype`` with ``params``, else why
    not; ``op`` may be ``"<op>:backward"``, its gradient (floating dtypes only)."""
    if op.endswith(":backward"):
        op = op.removesuffix(":backward")
        if op not in BACKWARD_OPS:
            return f"no gradients for {op}"
        if dtype not in FLOATS:
            return f"no gradients on {dtype}"
    if op == "interpolate" or op in ALIAS_MODES:
        mode = ALIAS_MODES.get(op) or params.get("mode", "nearest")
        antialias = bool(params.get("antialias", False))
        if dtype not in interpolate_dtypes(mode, antialias):
            return f"{mode}{' antialias' if antialias else ''} on {dtype}"
        return None
    if op not in OP_DTYPES:
        return f"no op {op}"
    return None if dtype in OP_DTYPES[op] else f"{op} on {dtype}"
