"""The upsampling aliases, each an ``interpolate`` call.

Each ``*_args`` function takes the alias's own arguments (its signature is the
alias's) and returns the ``interpolate`` keyword arguments it stands for:

* ``F.upsample(x, size, scale_factor, mode, align_corners)`` and
  ``nn.Upsample(size, scale_factor, mode, align_corners, recompute_scale_factor)(x)``:
  ``interpolate`` with the same arguments;
* ``F.upsample_nearest(x, size, scale_factor)`` and ``nn.UpsamplingNearest2d``:
  ``mode="nearest"``;
* ``F.upsample_bilinear(x, size, scale_factor)`` and ``nn.UpsamplingBilinear2d``:
  ``mode="bilinear", align_corners=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.interpolate import interpolate


def upsample_args(size: Any = None, scale_factor: Any = None, mode: str = "nearest", align_corners: Any = None) -> dict[str, Any]:
    """``F.upsample``: the same arguments (it takes no ``recompute_scale_factor``)."""
    return {"size": size, "scale_factor": scale_factor, "mode": mode, "align_corners": align_corners}


def module_upsample_args(
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: Any = None,
    recompute_scale_factor: Any = None,
) -> dict[str, Any]:
    """``nn.Upsample``: the same arguments, ``recompute_scale_factor`` included."""
    return {**upsample_args(size, scale_factor, mode, align_corners), "recompute_scale_factor": recompute_scale_factor}


def nearest_args(size: Any = None, scale_factor: Any = None) -> dict[str, Any]:
    """``upsample_nearest`` / ``UpsamplingNearest2d``: ``mode="nearest"``."""
    return {"size": size, "scale_factor": scale_factor, "mode": "nearest"}


def bilinear_args(size: Any = None, scale_factor: Any = None) -> dict[str, Any]:
    """``upsample_bilinear`` / ``UpsamplingBilinear2d``: bilinear with ``align_corners=True``."""
    return {"size": size, "scale_factor": scale_factor, "mode": "bilinear", "align_corners": True}


def _alias(name: str, args: Callable[..., dict[str, Any]]) -> Callable[..., np.ndarray]:
    def call(x: np.ndarray, **kwargs: Any) -> np.ndarray:
        return interpolate(x, **args(**kwargs))

    call.__name__ = name
    call.__doc__ = f"``{name}``: ``interpolate(x, **{args.__name__}(...))`` (module docstring)."
    return call


upsample = _alias("upsample", upsample_args)
Upsample = _alias("Upsample", module_upsample_args)
upsample_nearest = _alias("upsample_nearest", nearest_args)
UpsamplingNearest2d = _alias("UpsamplingNearest2d", nearest_args)
upsample_bilinear = _alias("upsample_bilinear", bilinear_args)
UpsamplingBilinear2d = _alias("UpsamplingBilinear2d", bilinear_args)
