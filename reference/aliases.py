"""The upsampling aliases, each an ``interpolate`` call:

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


def _same(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def _nearest(size: Any = None, scale_factor: Any = None) -> dict[str, Any]:
    return {"size": size, "scale_factor": scale_factor, "mode": "nearest"}


def _bilinear(size: Any = None, scale_factor: Any = None) -> dict[str, Any]:
    return {"size": size, "scale_factor": scale_factor, "mode": "bilinear", "align_corners": True}


#: alias -> the ``interpolate`` keyword arguments it stands for, given its own.
INTERPOLATE_ARGS: dict[str, Callable[..., dict[str, Any]]] = {
    "upsample": _same,
    "Upsample": _same,
    "upsample_nearest": _nearest,
    "UpsamplingNearest2d": _nearest,
    "upsample_bilinear": _bilinear,
    "UpsamplingBilinear2d": _bilinear,
}


def _alias(name: str) -> Callable[..., np.ndarray]:
    def call(x: np.ndarray, **kwargs: Any) -> np.ndarray:
        return interpolate(x, **INTERPOLATE_ARGS[name](**kwargs))

    call.__name__ = name
    call.__doc__ = f"``{name}``: ``interpolate`` with the arguments it stands for (module docstring)."
    return call


upsample = _alias("upsample")
Upsample = _alias("Upsample")
upsample_nearest = _alias("upsample_nearest")
UpsamplingNearest2d = _alias("UpsamplingNearest2d")
upsample_bilinear = _alias("upsample_bilinear")
UpsamplingBilinear2d = _alias("UpsamplingBilinear2d")
