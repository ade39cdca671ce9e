"""Which dtypes torch 2.13's CPU kernels take, per op and mode.

The NumPy backend and the torch oracle claim exactly these, so that every
drawn case has an oracle; ``tests/test_backends.py`` checks the table against
the torch that is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLOATS = ("float16", "float32", "float64")


def interpolate_dtypes(mode: str, antialias: bool) -> tuple[str, ...]:
    """The dtypes torch CPU's ``interpolate`` takes in ``mode``."""
    if antialias or mode == "lanczos":
        return ("float32", "float64", "uint8")  # no half kernels for antialias
    if mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        return FLOATS + ("uint8",)
    return FLOATS


def interpolate_unsupported(dtype: str, params: Mapping[str, Any]) -> str | None:
    """``None`` when torch CPU interpolates ``dtype`` with ``params``, else why not."""
    mode = params.get("mode", "nearest")
    antialias = bool(params.get("antialias", False))
    if dtype not in interpolate_dtypes(mode, antialias):
        return f"{mode}{' antialias' if antialias else ''} on {dtype}"
    return None
